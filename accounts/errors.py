"""The one kind of refusal every app's services raise: its message is the Russian sentence the user reads."""


class DomainError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

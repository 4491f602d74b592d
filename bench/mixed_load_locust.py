"""The locustfile of bench/mixed_load.py: the portal's people at work at once, as locust users (gevent).

Run by bench/mixed_load.py as `locust -f bench/mixed_load_locust.py --headless …` with MIXED_LOAD_PLAN naming the
JSON file it prepared: session cookies of users made in the benchmark database, the partner's API key, valid card
numbers, surnames of each chair's members, the ids of card requests each regional user may approve. Nothing here
touches the database or imports Django: locust patches the standard library for gevent, so it runs in a process of
its own.

Every request carries a `name`, its kind; bench/mixed_load.py reads the per-kind figures from locust's CSV. A kind's
share of all requests follows from the users' counts (class weights) and their task weights: every task makes one
request and then the user thinks (`wait_time`), so each user's requests come at about the same pace.
"""

import base64
import itertools
import json
import os
import random
import re
import time
import zlib

from locust import FastHttpUser, between, events, task

with open(os.environ["MIXED_LOAD_PLAN"], encoding="utf-8") as _plan:
    PLAN = json.load(_plan)
THINK = between(PLAN["think_seconds"][0], PLAN["think_seconds"][1])
NEXT_CURSOR = re.compile(r"after=([A-Za-z0-9_=-]+)")
MESSAGE_ERROR_LEVEL = 40  # django.contrib.messages.constants.ERROR
RUN_ID = PLAN.get("run_id") or f"m{int(time.time())}"
_identities = {role: itertools.count() for role in ("chair", "regional", "central", "cashier")}
# The writes answered as done, for bench/mixed_load.py to look up in the database afterwards.
OUTCOMES = {"approved": [], "purchases": []}


@events.quitting.add_listener
def _outcomes_write(**_kwargs):
    path = os.environ.get("MIXED_LOAD_OUTCOMES")
    if path:
        with open(path, "w", encoding="utf-8") as file:
            json.dump(OUTCOMES, file)


def _identity(role: str) -> tuple[int, dict]:
    """Each user instance of a role takes the next of the plan's identities of that role (round robin)."""
    number = next(_identities[role])
    people = PLAN[role]
    return number, people[number % len(people)]


def _cookie_header(session: str) -> dict:
    # Sent as a header, so locust's cookie jar never replaces the session: no password posts during the load.
    return {"Cookie": f"sessionid={session}; csrftoken={PLAN['csrf_token']}"}


def _flashed_errors(response) -> list[str]:
    """The error messages a redirect carries in Django's `messages` cookie (CookieStorage: signed, base64 JSON,
    zlib-compressed when that is shorter and then prefixed with a dot): a refused approval still answers 302."""
    errors = []
    for name, value in response.headers.items():
        if name.lower() != "set-cookie" or not value.startswith("messages="):
            continue
        payload = value.split(";", 1)[0].removeprefix("messages=").strip('"')
        payload = payload.split(":", 1)[0]  # then the timestamp and the signature
        compressed = payload.startswith(".")
        data = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload.lstrip(".")) % 4))
        if compressed:
            data = zlib.decompress(data)
        for message in json.loads(data):
            if message[0] == "__json_message" and message[2] >= MESSAGE_ERROR_LEVEL:
                errors.append(message[3])
    return errors


class Cashier(FastHttpUser):
    """A partner's till: verifies the card a customer shows, and now and then records the purchase (POST JSON with
    the partner's key; card numbers only in bodies, never in a URL)."""

    weight = PLAN["users"]["cashier"]
    wait_time = THINK

    def on_start(self):
        self.number, _person = _identity("cashier")
        self.headers = {"Authorization": f"Bearer {PLAN['api_key']}", "Content-Type": "application/json"}
        self.sent = 0

    def _card(self) -> str:
        return random.choice(PLAN["cards"])

    @task(PLAN["tasks"]["cashier"]["verify"])
    def verify(self):
        body = json.dumps({"card": self._card()})
        with self.client.post("/api/v1/cards/verify", data=body, headers=self.headers, name="verify",
                              catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif response.json().get("state") != "valid":
                response.failure(f"state {response.json().get('state')}")

    @task(PLAN["tasks"]["cashier"]["purchase"])
    def purchase(self):
        self.sent += 1
        receipt = f"{RUN_ID}-{self.number}-{self.sent}"
        body = json.dumps({"card": self._card(), "receipt_id": receipt, "amount": 10_000 + random.randrange(90_000)})
        with self.client.post("/api/v1/purchases", data=body, headers=self.headers, name="purchase",
                              catch_response=True) as response:  # fmt: skip
            if response.status_code != 201:
                response.failure(f"HTTP {response.status_code}")
            else:
                OUTCOMES["purchases"].append(receipt)


class Chair(FastHttpUser):
    """The chair of a ППО: the member list (first page, a sort or a filter, or the next page by the page's own
    link) and searches by the first letters of surnames of the organisation's own members."""

    weight = PLAN["users"]["chair"]
    wait_time = THINK
    VARIANTS = ("", "?sort=-joined", "?category=working", "?teaching=1", "?age=youth")

    def on_start(self):
        _number, person = _identity("chair")
        self.headers = _cookie_header(person["session"])
        self.prefixes = person["prefixes"]
        self.next_cursor = None

    def _get(self, path: str, name: str):
        with self.client.get(path, headers=self.headers, name=name, allow_redirects=False,
                             catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            return response

    @task(PLAN["tasks"]["chair"]["member_list"])
    def member_list(self):
        if self.next_cursor and random.random() < 0.5:
            path = f"{PLAN['member_list_path']}?after={self.next_cursor}"
        else:
            path = PLAN["member_list_path"] + random.choice(self.VARIANTS)
        response = self._get(path, "member_list")
        found = NEXT_CURSOR.search(response.text or "") if response.status_code == 200 else None
        self.next_cursor = found.group(1) if found else None

    @task(PLAN["tasks"]["chair"]["member_search"])
    def member_search(self):
        if self.prefixes:
            self._get(f"{PLAN['member_list_path']}?q={random.choice(self.prefixes)}", "member_search")


class Regional(FastHttpUser):
    """Regional staff working the card request queue: approve one request (POST with the CSRF token, answered by a
    redirect to the queue), then the queue page it leads to, and so on."""

    weight = PLAN["users"]["regional"]
    wait_time = THINK

    def on_start(self):
        _number, person = _identity("regional")
        # The identity's list is shared by its user instances (more users than identities): popping from it in
        # gevent's one thread hands every request id out once.
        self.requests = person["requests"]
        self.headers = _cookie_header(person["session"])
        self.approve_next = True

    @task
    def work_queue(self):
        if self.approve_next and self.requests:
            self.approve()
        else:
            with self.client.get(PLAN["queue_path"], headers=self.headers, name="request_queue",
                                 allow_redirects=False, catch_response=True) as response:  # fmt: skip
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")
        self.approve_next = not self.approve_next

    def approve(self):
        request_id = self.requests.pop()
        path = PLAN["approve_path"].format(id=request_id)
        headers = {**self.headers, "Content-Type": "application/x-www-form-urlencoded",
                   "X-CSRFToken": PLAN["csrf_token"], "Referer": self.host + PLAN["queue_path"]}  # fmt: skip
        body = f"csrfmiddlewaretoken={PLAN['csrf_token']}"
        with self.client.post(path, data=body, headers=headers, name="request_approve", allow_redirects=False,
                              catch_response=True) as response:  # fmt: skip
            if response.status_code != 302:
                response.failure(f"HTTP {response.status_code}")
            elif errors := _flashed_errors(response):
                response.failure(errors[0])
            else:
                OUTCOMES["approved"].append(request_id)


class Central(FastHttpUser):
    """Central office staff reading the statistics dashboards: the union's own page and its regions'."""

    weight = PLAN["users"]["central"]
    wait_time = THINK

    def on_start(self):
        _number, person = _identity("central")
        self.headers = _cookie_header(person["session"])

    @task
    def dashboard(self):
        path = random.choice(PLAN["dashboard_paths"])
        with self.client.get(path, headers=self.headers, name="dashboard", allow_redirects=False,
                             catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

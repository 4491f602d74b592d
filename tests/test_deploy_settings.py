"""`manage.py check --deploy` with the environment docker-compose.yml gives the web service: no warning.

The environment is read from docker-compose.yml itself (the web service, with the x-app block merged in), with each
`${NAME:-default}` taken at its default, as `docker compose up` with only SECRET_KEY set would run it; the
Dockerfile's own ENV lines are added first, as in the image.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
# As `openssl rand -base64 48` would give: long and random enough for security.W009.
DUMMY_SECRET_KEY = "q7VwS2m9Xc1LrT8bZp4NjD6kF0hYaGe3UoIvRtEyWsQxCz5BnMlKjHgFdSaPoIuY"
COMPOSE_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<kind>:-|:\?)(?P<rest>[^}]*))?\}")


def compose_value(value: str) -> str:
    def substitute(match):
        if match["name"] == "SECRET_KEY":
            return DUMMY_SECRET_KEY
        return match["rest"] if match["kind"] == ":-" else ""

    return COMPOSE_VARIABLE.sub(substitute, str(value))


def dockerfile_env() -> dict[str, str]:
    """KEY=value pairs of the Dockerfile's ENV instructions (continued lines joined)."""
    text = (BASE_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    pairs = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            pairs.update(re.findall(r"(\w+)=(\S+)", line))
    return pairs


def web_environment() -> dict[str, str]:
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    environment = compose["services"]["web"]["environment"]
    return {name: compose_value(value) for name, value in environment.items()}


@pytest.fixture(scope="module")
def production_env() -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    return env | dockerfile_env() | web_environment()


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_compose_environment_is_production(production_env):
    assert production_env["DEBUG"] == "0"
    assert production_env["SECURE_COOKIES"] == "1"
    assert production_env["SECRET_KEY"] == DUMMY_SECRET_KEY


def test_deploy_check_is_clean_with_the_compose_environment(production_env):
    checked = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_deploy_check_still_warns_without_https(production_env):
    """The check is clean because of the settings, not silenced: without the HTTPS switch it warns again."""
    checked = manage(production_env | {"SECURE_COOKIES": "0"}, "check", "--deploy", "--fail-level", "WARNING")
    output = checked.stdout + checked.stderr
    assert checked.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output


def test_production_settings_send_hsts_and_redirect_plain_http(production_env):
    printed = manage(
        production_env,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, "
        "s.TRUSTED_PROXY_COUNT)",
    )
    assert printed.returncode == 0, printed.stderr
    assert "True 31536000 True True True ('HTTP_X_FORWARDED_PROTO', 'https') 1" in printed.stdout.splitlines()


def test_healthcheck_speaks_as_the_https_proxy():
    """With plain HTTP redirected, the container's own healthcheck must say it came through HTTPS, or it would
    follow the redirect to https://127.0.0.1:8000, where nothing listens."""
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    healthcheck = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "X-Forwarded-Proto" in healthcheck and "https" in healthcheck


def test_access_log_line_has_neither_the_query_nor_the_referer():
    """gunicorn as the image runs it writes a staff search for a surname without the surname."""
    import datetime
    import runpy
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    assert '"-c", "config/gunicorn.py"' in (BASE_DIR / "Dockerfile").read_text()
    config = Config()
    for name, value in runpy.run_path(str(BASE_DIR / "config" / "gunicorn.py")).items():
        if name in config.settings:
            config.set(name, value)
    logger = Logger(config)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": "/members/?q=%D0%A1%D0%BC%D0%B8%D1%80%D0%BD%D0%BE%D0%B2%D0%B0",
        "PATH_INFO": "/members/", "QUERY_STRING": "q=%D0%A1%D0%BC%D0%B8%D1%80%D0%BD%D0%BE%D0%B2%D0%B0",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.2",
        "HTTP_REFERER": "https://reestr.example.ru/members/?q=%D0%A1%D0%BC", "HTTP_USER_AGENT": "Firefox",
    }  # fmt: skip
    response = SimpleNamespace(status="200 OK", sent=1234, headers=[])
    atoms = logger.atoms(response, [], environ, datetime.timedelta(milliseconds=12))
    line = config.access_log_format % atoms

    assert '"GET /members/ HTTP/1.1" 200 1234' in line
    assert "q=" not in line and "%D0" not in line and "reestr.example.ru" not in line

"""``DAGBOT_ALERTS_*``: checked at start like the access policy, each problem one line naming the
setting or the routes file's line and key; the token is a secret no log shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.inbound.alerts.routes import AlertRoutesError
from infra.cli.alert_hook import alert_hook_config
from infra.settings import Settings
from tests.infra.test_cli_serve import start

ROUTES = "routes:\n  - name: ops\n    channel: C0OPS\n    request: 'Investigate {alertname}'\n"


def settings(**values: str) -> Settings:
    return Settings.model_validate(values)


def test_without_a_routes_file_there_is_no_hook() -> None:
    assert alert_hook_config(settings()) is None
    assert alert_hook_config(settings(DAGBOT_ALERTS_FILE="")) is None


def test_routes_and_token_make_the_hooks_configuration(tmp_path: Path) -> None:
    (tmp_path / "alerts.yml").write_text(ROUTES)
    config = alert_hook_config(settings(DAGBOT_ALERTS_FILE=str(tmp_path / "alerts.yml"), DAGBOT_ALERTS_TOKEN="t0k",
                                        DAGBOT_ALERTS_RUNS_PER_MINUTE="3"))
    assert config is not None and config.token == "t0k" and config.runs_per_minute == 3
    assert [route.name for route in config.routes.routes] == ["ops"]
    assert "t0k" not in repr(config)
    assert "t0k" in settings(DAGBOT_ALERTS_TOKEN="t0k").secret_values()


def test_a_signing_secret_or_pagerdutys_will_do_instead_of_the_token(tmp_path: Path) -> None:
    (tmp_path / "alerts.yml").write_text(ROUTES)
    signed = alert_hook_config(settings(DAGBOT_ALERTS_FILE=str(tmp_path / "alerts.yml"),
                                        DAGBOT_ALERTS_HMAC_SECRET="h4c"))
    assert signed is not None and signed.token == "" and signed.hmac_secret == "h4c" and signed.takes_alertmanager
    paged = alert_hook_config(settings(DAGBOT_ALERTS_FILE=str(tmp_path / "alerts.yml"),
                                       DAGBOT_PAGERDUTY_SECRET="pd5"))
    assert paged is not None and paged.pagerduty_secret == "pd5" and not paged.takes_alertmanager
    assert "h4c" not in repr(signed) and "pd5" not in repr(paged)
    assert {"h4c", "pd5"} <= set(settings(DAGBOT_ALERTS_HMAC_SECRET="h4c",
                                          DAGBOT_PAGERDUTY_SECRET="pd5").secret_values())


@pytest.mark.parametrize(("values", "problem"), [
    ({"DAGBOT_PAGERDUTY_SECRET": "p"}, "DAGBOT_PAGERDUTY_SECRET is set but DAGBOT_ALERTS_FILE is not"),
    ({"DAGBOT_ALERTS_TOKEN": "t0k"}, "DAGBOT_ALERTS_TOKEN is set but DAGBOT_ALERTS_FILE is not"),
    ({"DAGBOT_ALERTS_FILE": "alerts.yml"}, "DAGBOT_ALERTS_FILE is set but DAGBOT_ALERTS_TOKEN is not"),
    ({"DAGBOT_ALERTS_FILE": "missing.yml", "DAGBOT_ALERTS_TOKEN": "t"}, "DAGBOT_ALERTS_FILE: cannot read"),
    ({"DAGBOT_ALERTS_FILE": "bad.yml", "DAGBOT_ALERTS_TOKEN": "t"},
     "bad.yml:3: routes[0].channel: 'ops' is not a Slack channel id"),
])
def test_a_hook_that_cannot_work_is_said_before_anything_starts(
        tmp_path: Path, values: dict[str, str], problem: str) -> None:
    (tmp_path / "alerts.yml").write_text(ROUTES)
    (tmp_path / "bad.yml").write_text(ROUTES.replace("C0OPS", "ops"))
    values = {k: str(tmp_path / v) if k == "DAGBOT_ALERTS_FILE" else v for k, v in values.items()}
    with pytest.raises(AlertRoutesError) as raised:
        alert_hook_config(settings(**values))
    assert any(problem in line for line in raised.value.problems), raised.value.problems


def test_dagbot_serve_with_a_bad_routes_file_stops_with_one_line_per_problem(tmp_path: Path) -> None:
    (tmp_path / "alerts.yml").write_text(ROUTES.replace("C0OPS", "ops"))
    process = start(tmp_path, {"SLACK_BOT_TOKEN": "xoxb-real-looking", "SLACK_SIGNING_SECRET": "s",
                               "DAGBOT_ALERTS_FILE": str(tmp_path / "alerts.yml")})
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "alerts.yml:3: routes[0].channel: 'ops' is not a Slack channel id" in err
    assert "DAGBOT_ALERTS_FILE is set but DAGBOT_ALERTS_TOKEN is not" in err
    assert "Traceback" not in err

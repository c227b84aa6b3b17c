"""The webhook verification recipe in docs/notifications.md works against real signatures."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lastmile.notifications.channels import HttpWebhookSender
from lastmile.notifications.signing import signature
from tests.notifications.receivers import HttpReceiver

DOC = Path(__file__).parents[2] / "docs" / "notifications.md"


def recipe() -> Callable[..., bool]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Verifying a request", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the recipe's code block is missing"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)
    verify: Callable[..., bool] = namespace["verify_lastmile_signature"]
    return verify


def test_the_recipe_accepts_a_sent_request_and_refuses_tampering(
    receiver: HttpReceiver,
) -> None:
    """A request as the sender signs it verifies; a changed body, another secret or a stale
    timestamp (beyond five minutes) does not."""
    verify = recipe()
    secret = "whsec_test-secret"
    HttpWebhookSender(allow_private=True).send(
        url=receiver.url, secret=secret, event="delivered", body=b'{"id":"nev_1"}',
        idempotency_key="nev_1:webhook:whe_1",
    )  # fmt: skip
    [request] = receiver.requests
    header = request.headers["Lastmile-Signature"]
    assert verify(secret, header, request.body)
    assert not verify(secret, header, request.body.replace(b"1", b"2"))
    assert not verify("whsec_other", header, request.body)
    assert not verify(secret, "v1=abc", request.body)
    stale = signature(secret, int(time.time()) - 301, request.body)
    assert not verify(secret, stale, request.body)
    recent = signature(secret, int(time.time()) - 299, request.body)
    assert verify(secret, recent, request.body)

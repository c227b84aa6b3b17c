"""Authentication: no, bad, expired, revoked or disabled credentials answer 401 everywhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.auth import service as auth
from lastmile.auth.models import AccessToken, User
from lastmile.db.engine import Database
from lastmile.kit.clock import utcnow
from lastmile.kit.crypto import sha256_hex
from tests.factories import PASSWORD, Tenant
from tests.helpers import assert_problem

PUBLIC = {"GET /healthz", "GET /metrics", "POST /v1/auth/token"}
# Authenticated by something else than an access token or API key: the tracker's device
# identifier or the customer's tracking token (tests/tracking covers their refusals).
OTHER_CREDENTIAL = {
    "GET /v1/osmand",
    "POST /v1/osmand",
    "GET /v1/tracking/{token}",
    "GET /v1/live/orders/{order_id}",
    # Self-service on the tracking link (tests/selfservice covers its refusals).
    "GET /v1/self-service/{token}",
    "POST /v1/self-service/{token}/window",
    "POST /v1/self-service/{token}/reschedule",
    "POST /v1/self-service/{token}/redirect",
    "POST /v1/self-service/{token}/safe-place",
    "POST /v1/self-service/{token}/instructions",
    "POST /v1/self-service/{token}/delivery-options",
    # The customer's chat and rating (tests/chat, tests/feedback cover their refusals).
    "GET /v1/self-service/{token}/messages",
    "POST /v1/self-service/{token}/messages",
    "POST /v1/self-service/{token}/messages/read",
    "GET /v1/self-service/{token}/feedback",
    "POST /v1/self-service/{token}/feedback",
}


def operations(client: TestClient) -> list[tuple[str, str]]:
    """Every operation of the API as (method, concrete path), ids filled with a dummy."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "abc_00000000000000000000000000", path))
        for path, item in paths.items()
        for method in item
        if f"{method.upper()} {path}" not in PUBLIC | OTHER_CREDENTIAL
    ]


def test_every_operation_needs_a_credential(client: TestClient, tenant: Tenant) -> None:
    """Without a credential every operation but login and health answers 401 problem+json."""
    ops = operations(client)
    assert len(ops) > 40
    for method, path in ops:
        response = client.request(method, path, json={})
        assert_problem(response, 401)
        assert response.headers.get("www-authenticate") == "Bearer", (method, path)


def test_public_operations_need_none(client: TestClient, tenant: Tenant) -> None:
    """Health and login work without a credential."""
    assert client.get("/healthz").status_code == 200
    email = f"admin-{tenant.organization_id}"  # not a user: still a 401, not a crash
    response = client.post("/v1/auth/token", json={"email": f"{email}@x.org", "password": "p"})
    assert_problem(response, 401)


def _user_email(database: Database, tenant: Tenant, role: str) -> str:
    with database.unit_of_work() as session:
        return session.scalars(
            select(User.email).where(
                User.organization_id == tenant.organization_id, User.role == role
            )
        ).one()


def test_login_issues_a_working_token(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """A right password yields a bearer token that authenticates; a wrong one is a 401."""
    email = _user_email(database, tenant, "dispatcher")
    login = client.post("/v1/auth/token", json={"email": email.upper(), "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["access"] == "dispatcher"
    wrong = client.post("/v1/auth/token", json={"email": email, "password": PASSWORD + "!"})
    unknown = client.post("/v1/auth/token", json={"email": "no@x.org", "password": PASSWORD})
    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"]


def _revoke_key(client: TestClient, tenant: Tenant, database: Database) -> dict[str, str]:
    keys = client.get(
        f"/v1/merchants/{tenant.merchant_id}/api-keys", headers=tenant.headers("admin")
    ).json()["items"]
    revoked = client.delete(f"/v1/api-keys/{keys[0]['id']}", headers=tenant.headers("admin"))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    return tenant.headers("merchant")


def _revoked_key_as_header(client: TestClient, tenant: Tenant, db: Database) -> dict[str, str]:
    _revoke_key(client, tenant, db)
    return {"X-API-Key": tenant.tokens["merchant"]}


def _logged_out(client: TestClient, tenant: Tenant, database: Database) -> dict[str, str]:
    headers = tenant.headers("dispatcher")
    assert client.post("/v1/auth/logout", headers=headers).status_code == 204
    return headers


def _expired(client: TestClient, tenant: Tenant, database: Database) -> dict[str, str]:
    with database.unit_of_work() as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == sha256_hex(tenant.tokens["dispatcher"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    return tenant.headers("dispatcher")


def _deactivated_user(client: TestClient, tenant: Tenant, database: Database) -> dict[str, str]:
    users = client.get("/v1/users", headers=tenant.headers("admin")).json()["items"]
    dispatcher = next(u for u in users if u["role"] == "dispatcher")
    patched = client.patch(
        f"/v1/users/{dispatcher['id']}", json={"active": False}, headers=tenant.headers("admin")
    )
    assert patched.status_code == 200, patched.text
    return tenant.headers("dispatcher")


def _deactivated_merchant(client: TestClient, tenant: Tenant, database: Database) -> dict[str, str]:
    patched = client.patch(
        f"/v1/merchants/{tenant.merchant_id}", json={"active": False},
        headers=tenant.headers("admin"),
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    return tenant.headers("merchant")


def _other_key_secret(client: TestClient, tenant: Tenant, database: Database) -> dict[str, str]:
    prefix = tenant.tokens["merchant"].rsplit("_", 1)[0]
    return {"Authorization": f"Bearer {prefix}_{'x' * 43}"}


BAD = {
    "garbage": lambda c, t, d: {"Authorization": "Bearer nonsense"},
    "unknown token": lambda c, t, d: {"Authorization": f"Bearer lmt_{'a' * 43}"},
    "unknown key": lambda c, t, d: {"Authorization": f"Bearer lmk_abcdefabcdef_{'a' * 43}"},
    "key with wrong secret": _other_key_secret,
    "key without secret": lambda c, t, d: {"X-API-Key": "lmk_"},
    "empty bearer": lambda c, t, d: {"Authorization": "Bearer "},
    "revoked key": _revoke_key,
    "revoked key in X-API-Key": _revoked_key_as_header,
    "logged-out token": _logged_out,
    "expired token": _expired,
    "deactivated user": _deactivated_user,
    "deactivated merchant": _deactivated_merchant,
}
CredentialMaker = Callable[[TestClient, Tenant, Database], dict[str, str]]


@pytest.mark.parametrize("maker", BAD.values(), ids=BAD.keys())
def test_bad_credential_is_refused(
    client: TestClient, tenant: Tenant, database: Database, maker: CredentialMaker
) -> None:
    """Reads and writes with the credential answer 401 problem+json and write nothing."""
    headers = maker(client, tenant, database)
    assert_problem(client.get("/v1/me", headers=headers), 401)
    assert_problem(client.get("/v1/orders", headers=headers), 401)
    created = client.post("/v1/customers", json={"name": "Eve"}, headers=headers)
    assert_problem(created, 401)
    staff = tenant.headers("admin")
    assert client.get("/v1/customers", headers=staff).json()["items"] == []


def test_deactivated_user_cannot_log_in(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """Once deactivated, a user's right password no longer yields a token."""
    _deactivated_user(client, tenant, database)
    email = _user_email(database, tenant, "dispatcher")
    assert_problem(client.post("/v1/auth/token", json={"email": email, "password": PASSWORD}), 401)


def test_other_credentials_keep_working(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """Revoking one merchant's key or one login leaves the other credentials working."""
    _revoke_key(client, tenant, database)
    _logged_out(client, tenant, database)
    assert client.get("/v1/me", headers=tenant.headers("merchant2")).status_code == 200
    assert client.get("/v1/me", headers=tenant.headers("admin")).status_code == 200


def test_api_key_secret_is_not_stored(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """A new key works at once and only its hash is kept: the secret is in no column."""
    created = client.post(
        f"/v1/merchants/{tenant.merchant2_id}/api-keys", json={"name": "till"},
        headers=tenant.headers("admin"),
    )  # fmt: skip
    secret = created.json()["key"]
    assert client.get("/v1/me", headers={"X-API-Key": secret}).json()["merchant_id"] == (
        tenant.merchant2_id
    )
    with database.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM api_keys").all()
    assert not any(secret.rsplit("_", 1)[-1] in repr(row) for row in rows)


def test_token_of_a_driver_names_its_driver(client: TestClient, tenant: Tenant) -> None:
    """A driver's token resolves to the driver profile linked to the user."""
    me = client.get("/v1/me", headers=tenant.headers("driver")).json()
    assert me == {
        "organization_id": tenant.organization_id,
        "access": "driver",
        "user_id": me["user_id"],
        "merchant_id": None,
        "driver_id": tenant.driver_id,
    }


def test_issued_tokens_expire(database: Database, tenant: Tenant) -> None:
    """A token is issued with the requested lifetime, in UTC."""
    with database.unit_of_work() as session:
        user = session.scalars(select(User).where(User.organization_id == tenant.organization_id))
        issued = auth.issue_access_token(session, user.first(), timedelta(minutes=5))
    assert issued.expires_at.utcoffset() == timedelta(0)
    assert timedelta(minutes=4) < issued.expires_at - utcnow() <= timedelta(minutes=5)

"""The e2e suite's second authorization server: Authlib (PyPI `authlib`), a third-party
implementation of the password grant (RFC 6749 §4.3) with rotating refresh tokens and of the
JWT bearer grant (RFC 7523 §2.1), served by Flask on loopback.

Settings come from the environment:
  JWT_PUBLIC_KEY     a PEM file: the key the jwt-bearer client's assertions must verify with
  ACCESS_TOKEN_TTL   seconds (default 300)

Prints one line, `READY <issuer>`, once it accepts connections, and exits when its stdin
ends, so a test process that dies takes its server with it. Token-endpoint refusals go to
stderr. Every credential below is a fake, used only on loopback.
"""

import os
import sys
import threading
import time

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # loopback only: plain HTTP

from authlib.integrations.flask_oauth2 import AuthorizationServer  # noqa: E402
from authlib.oauth2.rfc6749 import grants  # noqa: E402
from authlib.oauth2.rfc7523 import JWTBearerGrant  # noqa: E402
from flask import Flask  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

USERNAME = "e2e-user"
PASSWORD = "e2e-password-not-real"
SERVICE = "e2e-service@example.test"
TTL = int(os.environ.get("ACCESS_TOKEN_TTL") or 300)
with open(os.environ["JWT_PUBLIC_KEY"]) as f:
    PUBLIC_KEY = f.read()


class Client:
    def __init__(self, client_id, secret, grant_types):
        self.client_id, self.secret, self.grant_types = client_id, secret, grant_types

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in ("read", "write"))

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, secret):
        return self.secret is not None and secret == self.secret

    def check_endpoint_auth_method(self, method, endpoint):
        # Strict, as real providers are: a confidential client uses HTTP Basic only.
        return method == ("client_secret_basic" if self.secret else "none")

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types


CLIENTS = {
    c.client_id: c
    for c in [
        Client("e2e-password", "e2e-password-fake-secret", ["password", "refresh_token"]),
        Client(SERVICE, None, [JWTBearerGrant.GRANT_TYPE]),
    ]
}


class User:
    def get_user_id(self):
        return USERNAME


class Token:
    def __init__(self, data, client_id):
        self.data, self.client_id, self.revoked = data, client_id, False
        self.issued = time.time()

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.data.get("scope", "")

    def get_expires_in(self):
        return self.data.get("expires_in", TTL)

    def is_expired(self):
        return False

    def is_revoked(self):
        return self.revoked


TOKENS = {}  # refresh token -> Token
LOCK = threading.Lock()


def save_token(token, request):
    if "refresh_token" in token:
        with LOCK:
            TOKENS[token["refresh_token"]] = Token(token, request.client.get_client_id())


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

    def authenticate_user(self, username, password):
        if username == USERNAME and password == PASSWORD:
            return User()
        return None


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: the old one is spent

    def authenticate_refresh_token(self, refresh_token):
        with LOCK:
            token = TOKENS.get(refresh_token)
        if token and not token.is_revoked():
            return token
        return None

    def authenticate_user(self, refresh_token):
        return User()

    def revoke_old_credential(self, refresh_token):
        refresh_token.revoked = True


SEEN_JTI = set()


class ServiceGrant(JWTBearerGrant):
    def resolve_issuer_client(self, issuer):
        return CLIENTS.get(issuer)

    def resolve_client_public_key(self, client):
        return PUBLIC_KEY

    def authenticate_user(self, subject):
        return User() if subject in (USERNAME, SERVICE) else None

    def has_granted_permission(self, client, user):
        return True

    def get_audiences(self):
        return [ISSUER, ISSUER + "/token"]

    def verify_claims(self, claims):
        super().verify_claims(claims)
        # A replayed assertion is refused (RFC 7523 §3: jti).
        jti = claims.get("jti")
        with LOCK:
            if not jti or jti in SEEN_JTI:
                from authlib.oauth2.rfc6749 import InvalidGrantError

                raise InvalidGrantError(description="the assertion's jti was seen before")
            SEEN_JTI.add(jti)


app = Flask(__name__)
app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {
    "password": TTL,
    "refresh_token": TTL,
    JWTBearerGrant.GRANT_TYPE: TTL,
}
server = AuthorizationServer(app, query_client=CLIENTS.get, save_token=save_token)
server.register_grant(PasswordGrant)
server.register_grant(RefreshTokenGrant)
server.register_grant(ServiceGrant)


@app.route("/token", methods=["POST"])
def token():
    response = server.create_token_response()
    if response.status_code != 200:
        sys.stderr.write(f"[authlib] refused: {response.get_data(as_text=True)}\n")
    return response


http = make_server("127.0.0.1", int(os.environ.get("PORT") or 0), app, threaded=True)
ISSUER = f"http://127.0.0.1:{http.server_port}"
threading.Thread(target=http.serve_forever, daemon=True).start()
print(f"READY {ISSUER}", flush=True)
sys.stdin.read()  # until the test ends, however it ends
http.shutdown()

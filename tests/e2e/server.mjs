// The authorization server of the end-to-end suite: node-oidc-provider, a certified
// third-party implementation, so the CLI is proven against someone else's reading of the
// RFCs rather than our own stub's.
//
// Settings come from the environment (all optional):
//   PORT               port on 127.0.0.1; 0 (default) lets the OS pick
//   ACCESS_TOKEN_TTL   seconds (default 300)
//   REFRESH_TOKEN_TTL  seconds (default 86400)
//   TENANTS            comma-separated tenant names (`acme,globex`): instead of one provider
//                      at the root, one per tenant under `/tenants/<name>`, with that path in
//                      its issuer and its own keys, cookies and store (see `route` below)
//
// Prints one line, `READY <issuer>`, once it accepts connections (with TENANTS, the origin:
// each tenant's issuer is `<origin>/tenants/<name>`), and exits when its stdin ends, so a
// test process that dies (even by SIGKILL) takes its server with it. Token-endpoint events
// go to stderr so a failing test can show what the server thought. Under TENANTS, a request
// outside `/tenants/<a known name>` gets a 404.
//
// Every credential below is a fake, used only on loopback.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const seconds = (name, fallback) => {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
};

// Any loopback port is accepted at request time for a native client (RFC 8252 §7.3), so one
// registered URI serves every test's port.
const native = {
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1:9002/callback'],
  response_types: ['code'],
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
};
const clients = [
  {
    ...native,
    client_id: 'e2e-basic',
    client_secret: 'e2e-basic-fake-secret',
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    ...native,
    client_id: 'e2e-post',
    client_secret: 'e2e-post-fake-secret',
    token_endpoint_auth_method: 'client_secret_post',
  },
  // Authenticates with assertions signed by the test-only key (RFC 7523 §2.2).
  {
    ...native,
    client_id: 'e2e-keyjwt',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: {
      keys: [
        {
          ...createPublicKey(
            readFileSync(new URL('../fixtures/jwt/test-only-rsa.pub.pem', import.meta.url)),
          ).export({ format: 'jwk' }),
          use: 'sig',
          alg: 'RS256',
        },
      ],
    },
  },
];

// A fresh object for each Provider, which takes ownership of what it is given.
const configFor = (extra = {}) => ({
  clients: structuredClone(clients),
  scopes: ['openid', 'offline_access', 'read', 'write'],
  claims: { openid: ['sub'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => true },
  // The library only hands out refresh tokens for offline_access with prompt=consent; a
  // connector's provider usually issues them unconditionally, so do that.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: seconds('ACCESS_TOKEN_TTL', 300),
    ClientCredentials: seconds('ACCESS_TOKEN_TTL', 300),
    RefreshToken: seconds('REFRESH_TOKEN_TTL', 86400),
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    Session: 3600,
    Grant: 86400,
  },
  cookies: { keys: ['e2e-fake-cookie-key'] },
  // The default (15 s) keeps expired tokens working; tests of expiry need the truth.
  clockTolerance: 0,
  ...extra,
});

// `[oidc] ` lines are what a failing test shows of the server; a tenant's say whose they are.
const logEvents = (provider, tenant) => {
  const who = tenant ? `${tenant}: ` : '';
  for (const event of ['grant.success', 'grant.error', 'authorization.error', 'server_error']) {
    provider.on(event, (...args) => {
      const err = args.find((a) => a instanceof Error);
      const why = err ? `: ${err.message} ${err.error_description || ''}` : '';
      process.stderr.write(`[oidc] ${who}${event}${why}\n`);
    });
  }
  return provider;
};

// A tenant's provider shares nothing with another's: its own signing key (the library's
// quick-start keys are the same in every instance), cookie key and in-memory store (one per
// Provider), so a token or cookie of one tenant means nothing to another.
const tenantProvider = (issuer, tenant) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = { ...privateKey.export({ format: 'jwk' }), kid: `e2e-${tenant}`, use: 'sig', alg: 'RS256' };
  return logEvents(new Provider(issuer, configFor({
    jwks: { keys: [key] },
    cookies: { keys: [`e2e-fake-cookie-key-${tenant}`] },
  })), tenant);
};

const tenants = (process.env.TENANTS || '').split(',').map((t) => t.trim()).filter(Boolean);
const registered = new Map(clients.map((c) => [c.client_id, c.token_endpoint_auth_method]));

const server = http.createServer();
server.listen(seconds('PORT', 0), '127.0.0.1', () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  const root = tenants.length ? undefined : logEvents(new Provider(origin, configFor())).callback();
  const mounted = new Map(tenants.map((t) => [
    t, tenantProvider(`${origin}/tenants/${t}`, t).callback(),
  ]));

  // Which provider answers `req`, with `req.url` made relative to it; undefined for none.
  // A tenant's provider sees its requests as if mounted at `/tenants/<name>` (what express's
  // `app.use(prefix, ...)` does): the prefix is cut from `req.url` and put in `req.baseUrl`,
  // from which oidc-provider builds every URL it hands out (discovery, the login and consent
  // pages, redirects, cookie paths), while its issuer carries the same path.
  const route = (req) => {
    if (root) return root;
    const m = /^\/tenants\/([^/?#]+)(.*)$/s.exec(req.url);
    const handle = m && mounted.get(m[1]);
    if (!handle) return undefined;
    [, req.tenant] = m;
    req.baseUrl = `/tenants/${m[1]}`;
    req.url = m[2].startsWith('/') ? m[2] : `/${m[2]}`;
    return handle;
  };

  server.on('request', async (req, res) => {
    const handle = route(req);
    if (!handle) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not_found', error_description: 'no such tenant' }));
      return;
    }
    // oidc-provider's routes ignore case, so must this check.
    const path = new URL(req.url, origin).pathname.toLowerCase();
    if (req.method !== 'POST' || !path.startsWith('/token')) {
      handle(req, res);
      return;
    }
    // oidc-provider accepts client_secret_basic and client_secret_post interchangeably. Real
    // providers often do not, so refuse a client that uses the method it is not registered
    // for: a CLI that sends the wrong one must fail here, as it would in production.
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    req.body = Buffer.concat(chunks); // oidc-provider reads a pre-parsed body from here
    const form = new URLSearchParams(req.body.toString());
    const authorization = req.headers.authorization || '';
    let used;
    let id;
    if (/^basic /i.test(authorization)) {
      used = 'client_secret_basic';
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString();
      try {
        id = decodeURIComponent(decoded.slice(0, decoded.indexOf(':')).replace(/\+/g, ' '));
      } catch {
        id = undefined;
      }
    } else if (form.has('client_assertion')) {
      used = 'private_key_jwt';
      id = form.get('client_id');
    } else {
      used = form.has('client_secret') ? 'client_secret_post' : 'none';
      id = form.get('client_id');
    }
    const expected = registered.get(id);
    if (expected && expected !== used) {
      const who = req.tenant ? `${req.tenant}: ` : '';
      process.stderr.write(`[oidc] ${who}refused ${id}: used ${used}, registered for ${expected}\n`);
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic' });
      res.end(JSON.stringify({
        error: 'invalid_client',
        error_description: `client ${id} must authenticate with ${expected}, not ${used}`,
      }));
      return;
    }
    handle(req, res);
  });
  process.stdout.write(`READY ${origin}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();

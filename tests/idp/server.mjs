// The identity provider of the remote-key and OpenID Connect tests: node oidc-provider on
// 127.0.0.1, configured from the environment, with a middleware of the tests' own in front of
// its JWK Set endpoint (fetch counts, a Cache-Control header, an outage on demand).
//
//   PORT            the port (the issuer is http://127.0.0.1:PORT)
//   JWKS_FILE       the private signing keys (see keys.mjs)
//   AUDIENCE        the resource (audience) access tokens are issued for
//   REDIRECT_URI    the "web-*" clients' redirect URI (authorization code flow)
//   CLIENT_JWKS     the public keys of the "web-private_key_jwt" client (client-key.mjs)
//   ACCESS_TTL      access token lifetime in seconds (default 300)
//
// Test control, on the same port:
//   GET  /test/stats                       {"jwks": <fetches of /jwks>}
//   POST /test/jwks?status=503             answer /jwks with that status until status=200
//   POST /test/jwks?cache_control=max-age=60   send that Cache-Control on /jwks
import { readFileSync } from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const audience = process.env.AUDIENCE ?? 'https://api.test';
const jwks = JSON.parse(readFileSync(process.env.JWKS_FILE, 'utf8'));
const accessTtl = Number(process.env.ACCESS_TTL ?? 300);

const clients = [
  {
    client_id: 'machine',
    client_secret: 'machine-secret-machine-secret-machine-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'todo:read todo:write',
  },
];
if (process.env.REDIRECT_URI) {
  for (const method of ['client_secret_basic', 'client_secret_post']) {
    clients.push({
      client_id: `web-${method}`,
      client_secret: 'web-secret-web-secret-web-secret-web-secret',
      grant_types: ['authorization_code'],
      redirect_uris: [process.env.REDIRECT_URI],
      response_types: ['code'],
      token_endpoint_auth_method: method,
    });
  }
  if (process.env.CLIENT_JWKS) {
    clients.push({
      client_id: 'web-private_key_jwt',
      grant_types: ['authorization_code'],
      redirect_uris: [process.env.REDIRECT_URI],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: JSON.parse(process.env.CLIENT_JWKS),
    });
  }
}

const provider = new Provider(issuer, {
  clients,
  jwks,
  scopes: ['openid', 'profile', 'email', 'todo:read', 'todo:write'],
  // The scopes' claims go in the ID token too (as most providers do), not only in user info.
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Machine clients get JWT access tokens for the API; the login clients' access tokens
      // stay the provider's own (opaque), which its user-info endpoint accepts.
      defaultResource: (_ctx, client) => (client.clientId === 'machine' ? audience : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== audience) throw new errors.InvalidTarget();
        return {
          scope: 'todo:read todo:write',
          audience,
          accessTokenTTL: accessTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@idp.test`, email_verified: true, name: id }),
  }),
});

const stats = { jwks: 0 };
let jwksStatus = 200;
let cacheControl = process.env.JWKS_CACHE_CONTROL ?? '';
provider.use(async (ctx, next) => {
  if (ctx.path === '/test/stats') {
    ctx.body = stats;
    return;
  }
  if (ctx.path === '/test/jwks' && ctx.method === 'POST') {
    if (ctx.query.status) jwksStatus = Number(ctx.query.status);
    if (ctx.query.cache_control !== undefined) cacheControl = ctx.query.cache_control;
    ctx.body = { jwksStatus, cacheControl };
    return;
  }
  if (ctx.path === '/jwks') {
    stats.jwks += 1;
    if (jwksStatus !== 200) {
      ctx.status = jwksStatus;
      ctx.body = 'unavailable';
      return;
    }
    await next();
    if (cacheControl) ctx.set('cache-control', cacheControl);
    return;
  }
  await next();
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});

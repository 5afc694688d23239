// Loopback OpenID provider for the jwksauth end-to-end tests.
//
// Wraps panva's oidc-provider with:
//   * fresh signing keys per start (RSA 2048, EC P-256, Ed25519), each with its own kid;
//   * four client_credentials clients, one per JWS algorithm;
//   * JWT access tokens for the resource urn:jwksauth:notes (the default resource),
//     and for any loopback http URL asked for with resource= (RFC 8707), such as an
//     example app's own URL: aud is then that URL, as sent;
//   * loopback-only POST /__rotate and GET /__kids for key-rotation tests.
//   * DPoP-bound tokens (RFC 9449), and tokens of client-mtls bound to the client
//     certificate of the RFC 9440 Client-Cert header (RFC 8705).
//
// Usage: node server.mjs --port 0     (or PORT=0 node server.mjs)
// Prints exactly one stdout line once listening: "READY http://127.0.0.1:<port>".
// Every other diagnostic goes to stderr.

import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import process from 'node:process';

// oidc-provider prints its notices through console.info / console.log, which
// would land on stdout. stdout is reserved for the READY line, so route the
// chatty console methods to stderr before the library is loaded.
console.info = console.error;
console.log = console.error;

const { default: Provider, errors } = await import('oidc-provider');

const HOST = '127.0.0.1';
const AUDIENCE = 'urn:jwksauth:notes';
// A second, otherwise identical resource so tests can mint a token whose
// audience the verifier must reject.
const OTHER_AUDIENCE = 'urn:jwksauth:other';
const SCOPES = [
  'example:note:read',
  'example:note:create',
  'example:note:update',
  'example:note:delete',
];
const TOKEN_TTL_SECONDS = 10 * 60;
const CLIENT_SECRET = 'secret';

// client_id -> JWS alg used to sign that client's access tokens.
const CLIENT_ALGS = {
  'client-rs256': 'RS256',
  'client-ps256': 'PS256',
  'client-es256': 'ES256',
  'client-eddsa': 'EdDSA',
  // Its tokens are bound to the client certificate of the token request.
  'client-mtls': 'ES256',
};
const MTLS_CLIENT = 'client-mtls';

function log(...args) {
  console.error('[oidcprovider]', ...args);
}

function parsePort(argv, env) {
  let raw;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--port') {
      raw = argv[i + 1];
      i += 1;
    } else if (arg.startsWith('--port=')) {
      raw = arg.slice('--port='.length);
    } else if (arg === '-h' || arg === '--help') {
      process.stderr.write('usage: node server.mjs [--port N]   (N=0 picks a free port; env PORT also works)\n');
      process.exit(0);
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  if (raw === undefined) raw = env.PORT;
  if (raw === undefined || raw === '') raw = '0';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid port: ${JSON.stringify(raw)}`);
  }
  return port;
}

// ---------------------------------------------------------------- keys

let generation = 0;

function newKid(kind, gen) {
  return `${kind}-g${gen}-${randomBytes(6).toString('hex')}`;
}

// One key set: a single RSA key serves both RS256 and PS256, so the JWKS has
// three entries. oidc-provider fills in "use" and, where a key fits exactly one
// algorithm (EC P-256, Ed25519), "alg" in the published JWKS.
function generateKeySet() {
  generation += 1;
  const gen = generation;
  const toJwk = ({ privateKey }) => privateKey.export({ format: 'jwk' });

  const rsa = toJwk(generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 }));
  const ec = toJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const ed = toJwk(generateKeyPairSync('ed25519'));

  rsa.kid = newKid('rsa', gen);
  ec.kid = newKid('ec', gen);
  ed.kid = newKid('ed25519', gen);

  return { generation: gen, keys: [rsa, ec, ed] };
}

// ------------------------------------------------------------ storage

// Tiny in-memory adapter. oidc-provider ships one too, but it prints a
// "development-only" warning on every Provider construction; this one is
// shared across rotations so rebuilding the Provider keeps any stored state.
const stores = new Map();

function storeFor(name) {
  if (!stores.has(name)) stores.set(name, new Map());
  return stores.get(name);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

class MemoryAdapter {
  constructor(name) {
    this.name = name;
    this.items = storeFor(name);
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = expiresIn ? nowSeconds() + expiresIn : undefined;
    this.items.set(id, { payload: { ...payload }, expiresAt });
  }

  async find(id) {
    const entry = this.items.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= nowSeconds()) {
      this.items.delete(id);
      return undefined;
    }
    return { ...entry.payload };
  }

  async findByUid(uid) {
    for (const id of this.items.keys()) {
      // eslint-disable-next-line no-await-in-loop
      const payload = await this.find(id);
      if (payload?.uid === uid) return payload;
    }
    return undefined;
  }

  async findByUserCode(userCode) {
    for (const id of this.items.keys()) {
      // eslint-disable-next-line no-await-in-loop
      const payload = await this.find(id);
      if (payload?.userCode === userCode) return payload;
    }
    return undefined;
  }

  async consume(id) {
    const entry = this.items.get(id);
    if (entry) entry.payload.consumed = nowSeconds();
  }

  async destroy(id) {
    this.items.delete(id);
  }

  async revokeByGrantId(grantId) {
    for (const [id, entry] of this.items) {
      if (entry.payload.grantId === grantId) this.items.delete(id);
    }
  }
}

// ------------------------------------------------------------ provider

const clients = Object.entries(CLIENT_ALGS).map(([clientId]) => ({
  client_id: clientId,
  client_secret: CLIENT_SECRET,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  // client_secret_basic is registered; oidc-provider accepts the secret in
  // the form body (client_secret_post) for such clients as well.
  token_endpoint_auth_method: 'client_secret_basic',
  scope: SCOPES.join(' '),
  ...(clientId === MTLS_CLIENT ? { tls_client_certificate_bound_access_tokens: true } : {}),
}));

// clientCertificate reads the RFC 9440 Client-Cert header (:base64 DER:), as a
// backend behind a TLS-terminating proxy would. Undefined when absent or malformed.
function clientCertificate(ctx) {
  const m = /^:([A-Za-z0-9+/]+={0,2}):$/.exec(ctx.get('client-cert').trim());
  if (!m) return undefined;
  try { return new X509Certificate(Buffer.from(m[1], 'base64')); } catch { return undefined; }
}

const cookieKeys = [randomBytes(32).toString('base64url')];

function resourceServerFor(resource, client) {
  const alg = CLIENT_ALGS[client.clientId];
  if (!alg) {
    throw new errors.InvalidTarget(`client ${client.clientId} may not request resource ${resource}`);
  }
  return {
    scope: SCOPES.join(' '),
    audience: resource,
    accessTokenTTL: TOKEN_TTL_SECONDS,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg } },
  };
}

function buildProvider(issuer, keySet) {
  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    clients,
    jwks: { keys: keySet.keys },
    scopes: ['openid', 'offline_access', ...SCOPES],
    cookies: { keys: cookieKeys },
    features: {
      // Only the token endpoint is exercised; there is no login UI.
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A DPoP proof at the token endpoint binds the token to its key (no server nonces).
      dPoP: { enabled: true },
      mTLS: { enabled: true, certificateBoundAccessTokens: true, getCertificate: clientCertificate },
      resourceIndicators: {
        enabled: true,
        // Requests without `resource=` get a token for the notes API.
        defaultResource: async () => AUDIENCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource, client) => {
          if (resource === AUDIENCE || resource === OTHER_AUDIENCE || isLoopbackResource(resource)) {
            return resourceServerFor(resource, client);
          }
          throw new errors.InvalidTarget(`unknown resource indicator: ${resource}`);
        },
      },
    },
    // DPoP proof algorithms: oidc-provider's default (ES256, EdDSA) plus PS256.
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'PS256', 'EdDSA'] },
    ttl: {
      AccessToken: TOKEN_TTL_SECONDS,
      ClientCredentials: TOKEN_TTL_SECONDS,
      AuthorizationCode: 60,
      IdToken: TOKEN_TTL_SECONDS,
      RefreshToken: 24 * 60 * 60,
      Interaction: 10 * 60,
      Session: 24 * 60 * 60,
      Grant: 24 * 60 * 60,
      DeviceCode: 10 * 60,
      BackchannelAuthenticationRequest: 10 * 60,
    },
    // No browser flows are used; point the (unused) interaction URL somewhere
    // harmless instead of relying on the dev interaction views.
    interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });

  provider.on('server_error', (ctx, err) => log('server_error', err));
  provider.on('grant.error', (ctx, err) => log('grant.error', err.message, err.error_description ?? ''));

  return provider;
}

// A resource indicator naming an API on this machine: http on a loopback
// host, without userinfo, query or fragment (RFC 8707 §2).
function isLoopbackResource(resource) {
  let u;
  try {
    u = new URL(resource);
  } catch {
    return false;
  }
  const loopbackHost = u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(u.hostname);
  return u.protocol === 'http:' && loopbackHost && !u.username && !u.password && !resource.includes('?') && !resource.includes('#');
}

// --------------------------------------------------------------- http

function isLoopback(address) {
  if (!address) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.');
}

function sendJson(res, status, body) {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

const state = {
  issuer: undefined,
  keySet: undefined,
  provider: undefined,
  handler: undefined,
};

function kidsOf(keySet) {
  return keySet.keys.map((k) => k.kid);
}

function install(keySet) {
  const provider = buildProvider(state.issuer, keySet);
  // Build fully before swapping so in-flight requests keep the old instance.
  const handler = provider.callback();
  state.keySet = keySet;
  state.provider = provider;
  state.handler = handler;
}

function adminRoute(req, res, pathname) {
  if (!isLoopback(req.socket.remoteAddress)) {
    sendJson(res, 403, { error: 'forbidden', error_description: 'loopback only' });
    return;
  }
  if (pathname === '/__rotate') {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      sendJson(res, 405, { error: 'method_not_allowed' });
      return;
    }
    const old = kidsOf(state.keySet);
    install(generateKeySet());
    const kids = kidsOf(state.keySet);
    log(`rotated keys: [${old.join(', ')}] -> [${kids.join(', ')}]`);
    sendJson(res, 200, { kids });
    return;
  }
  // /__kids
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendJson(res, 405, { error: 'method_not_allowed' });
    return;
  }
  sendJson(res, 200, { kids: kidsOf(state.keySet), generation: state.keySet.generation });
}

function onRequest(req, res) {
  let pathname;
  try {
    ({ pathname } = new URL(req.url, 'http://localhost'));
  } catch {
    pathname = '';
  }
  if (pathname === '/__rotate' || pathname === '/__kids') {
    // Drain any request body before answering.
    req.resume();
    req.on('end', () => adminRoute(req, res, pathname));
    return;
  }
  state.handler(req, res);
}

async function main() {
  const port = parsePort(process.argv.slice(2), process.env);
  const server = createServer(onRequest);
  server.keepAliveTimeout = 5000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const actual = server.address().port;
  state.issuer = `http://${HOST}:${actual}`;
  install(generateKeySet());
  log(`issuer ${state.issuer}, kids [${kidsOf(state.keySet).join(', ')}]`);

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received, shutting down`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  process.stdout.write(`READY ${state.issuer}\n`);
}

main().catch((err) => {
  log('fatal:', err?.stack ?? err);
  process.exit(1);
});

// DPoP client (RFC 9449) for the jwksauth end-to-end tests, on panva's
// oauth4webapi: the library makes every key pair, every proof and the token
// request; the Go test only sends the requests the proofs are for.
//
// Usage: node dpopclient.mjs <issuer>
// One JSON request per stdin line, one JSON answer per stdout line, in order:
//
//   {"op":"token","client":"client-es256","scope":"…","alg":"ES256"}
//     -> {"id":1,"access_token":"…","token_type":"DPoP","jkt":"…"}
//        a DPoP-bound token by client credentials, under a new key of alg
//   {"op":"proof","id":1,"method":"GET","url":"http://…/notes","token"?:"…"}
//     -> {"authorization":"DPoP …","dpop":"…"}
//        the headers oauth4webapi sends with that token (or with the given
//        one, still under token 1's key) to that request
//
// A failure answers {"error":"…"} and is logged on stderr.
import { createInterface } from 'node:readline';
import process from 'node:process';
import * as oauth from 'oauth4webapi';

const issuer = new URL(process.argv[2] ?? '');
// The provider and the apps listen on loopback over plain http.
const insecure = { [oauth.allowInsecureRequests]: true };
const sessions = new Map();
let nextID = 1;
let as;

async function server() {
  as ??= await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  return as;
}

async function token({ client: clientID, scope, alg = 'ES256' }) {
  const meta = await server();
  const client = { client_id: clientID };
  const handle = oauth.DPoP(client, await oauth.generateKeyPair(alg));
  const params = new URLSearchParams();
  if (scope) params.set('scope', scope);
  const grant = async () => oauth.processClientCredentialsResponse(meta, client,
    await oauth.clientCredentialsGrantRequest(meta, client, oauth.ClientSecretBasic('secret'), params, { DPoP: handle, ...insecure }));
  let res;
  try {
    res = await grant();
  } catch (err) {
    // The provider asks for no nonce, but a client must retry once if it does.
    if (!oauth.isDPoPNonceError(err)) throw err;
    res = await grant();
  }
  const id = nextID;
  nextID += 1;
  sessions.set(id, { handle, accessToken: res.access_token });
  return { id, access_token: res.access_token, token_type: res.token_type, jkt: await handle.calculateThumbprint() };
}

// proof runs oauth4webapi's protectedResourceRequest with a fetch that keeps
// the headers the library made and sends nothing.
async function proof({ id, method, url, token: accessToken }) {
  const s = sessions.get(id);
  if (!s) throw new Error(`no token ${id}`);
  let sent;
  const keep = async (_url, init) => {
    sent = init.headers;
    return new Response(null, { status: 204 });
  };
  await oauth.protectedResourceRequest(accessToken ?? s.accessToken, method, new URL(url), undefined, undefined,
    { DPoP: s.handle, [oauth.customFetch]: keep, ...insecure });
  return { authorization: sent.authorization, dpop: sent.dpop };
}

const ops = { token, proof };
let queue = Promise.resolve();
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  queue = queue.then(async () => {
    let out;
    try {
      const req = JSON.parse(line);
      if (!Object.hasOwn(ops, req.op)) throw new Error(`unknown op ${JSON.stringify(req.op)}`);
      out = await ops[req.op](req);
    } catch (err) {
      console.error('[dpopclient]', err?.stack ?? err);
      const code = err?.error ? ` (${err.error}: ${err.error_description ?? ''})` : '';
      out = { error: `${err?.message ?? err}${code}` };
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  });
});
lines.on('close', () => { queue.then(() => process.exit(0)); });

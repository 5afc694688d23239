// Discovers an API's authorization server the way an MCP client does, from
// an unauthenticated request alone, with two client libraries we did not
// write: the MCP TypeScript SDK's client auth module and oauth4webapi.
//
//   1. GET <url> without credentials (the MCP SDK) or with a token the API
//      cannot know (oauth4webapi); expect 401 with WWW-Authenticate.
//   2. Read resource_metadata from the challenge (RFC 9728 §5.1).
//   3. Fetch the Protected Resource Metadata there (RFC 9728 §3) and check
//      its resource against the URL (RFC 9728 §3.3).
//   4. Fetch the first authorization server's metadata (RFC 8414 or
//      OpenID Connect Discovery).
//   5. With --client, get a token by client credentials from the discovered
//      token endpoint for the document's resource (RFC 8707) and call <url>.
//
// Usage: node mcpdiscover.mjs <url> [--client ID --secret SECRET --scope "A B"]
// Prints one JSON object on stdout and exits 0, or prints the failure on
// stderr and exits 1. Plain http is allowed (loopback test servers).

import process from 'node:process';

import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
  selectResourceURL,
} from '@modelcontextprotocol/sdk/client/auth.js';
import * as oauth from 'oauth4webapi';

function parseArgs(argv) {
  const out = { url: undefined, client: undefined, secret: undefined, scope: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      i += 1;
      if (i >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[i];
    };
    if (arg === '--client') out.client = value();
    else if (arg === '--secret') out.secret = value();
    else if (arg === '--scope') out.scope = value();
    else if (arg.startsWith('--')) throw new Error(`unknown argument: ${arg}`);
    else if (out.url === undefined) out.url = arg;
    else throw new Error(`unexpected argument: ${arg}`);
  }
  if (!out.url) throw new Error('usage: node mcpdiscover.mjs <url> [--client ID --secret SECRET --scope "A B"]');
  if ((out.client === undefined) !== (out.secret === undefined)) throw new Error('--client and --secret go together');
  return out;
}

function check(ok, what) {
  if (!ok) throw new Error(what);
}

// What the MCP SDK finds, through its exported discovery functions.
async function withMCP(url) {
  const res = await fetch(url);
  await res.body?.cancel();
  check(res.status === 401, `GET ${url} without a token: ${res.status}, want 401`);
  const params = extractWWWAuthenticateParams(res);
  check(params.resourceMetadataUrl, `the challenge ${JSON.stringify(res.headers.get('www-authenticate'))} names no resource_metadata`);
  const prm = await discoverOAuthProtectedResourceMetadata(url, { resourceMetadataUrl: params.resourceMetadataUrl });
  // Throws when the document's resource does not cover url.
  const selected = await selectResourceURL(url, {}, prm);
  check(prm.authorization_servers?.length > 0, 'the document lists no authorization server');
  const as = await discoverAuthorizationServerMetadata(prm.authorization_servers[0]);
  check(as, `no metadata for the authorization server ${prm.authorization_servers[0]}`);
  return {
    status: res.status,
    resource_metadata: params.resourceMetadataUrl.href,
    resource: prm.resource,
    selected_resource: selected?.href,
    authorization_servers: prm.authorization_servers,
    scopes_supported: prm.scopes_supported ?? [],
    bearer_methods_supported: prm.bearer_methods_supported ?? [],
    issuer: as.issuer,
    token_endpoint: as.token_endpoint,
  };
}

// What oauth4webapi finds. It has no unauthenticated request, so it calls
// url with a token the API cannot know: protectedResourceRequest then
// throws the 401's parsed challenges. It derives the document's URL from
// the resource identifier and requires the document's resource to equal it.
async function withOAuth4WebAPI(url, args) {
  const insecure = { [oauth.allowInsecureRequests]: true };
  let challenges;
  try {
    const res = await oauth.protectedResourceRequest('not-a-token', 'GET', new URL(url), undefined, undefined, insecure);
    await res.body?.cancel();
    throw new Error(`GET ${url} with an unknown token: ${res.status} without a challenge`);
  } catch (err) {
    if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err;
    check(err.status === 401, `GET ${url} with an unknown token: ${err.status}, want 401`);
    challenges = err.cause;
  }
  const bearer = challenges.find((c) => c.scheme === 'bearer');
  check(bearer, `no Bearer challenge in ${JSON.stringify(challenges)}`);
  const metadataURL = bearer.parameters.resource_metadata;
  check(metadataURL, `the Bearer challenge ${JSON.stringify(bearer)} names no resource_metadata`);
  // The identifier the document must name: read it there, then have
  // oauth4webapi fetch and check the document from that identifier.
  const first = await fetch(metadataURL);
  check(first.ok, `GET ${metadataURL}: ${first.status}`);
  const resource = new URL((await first.json()).resource);
  const prmRes = await oauth.resourceDiscoveryRequest(resource, insecure);
  check(prmRes.url === metadataURL, `oauth4webapi fetched ${prmRes.url}, the challenge names ${metadataURL}`);
  const prm = await oauth.processResourceDiscoveryResponse(resource, prmRes);
  check(prm.authorization_servers?.length > 0, 'the document lists no authorization server');
  const issuer = new URL(prm.authorization_servers[0]);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oidc' }));
  const out = {
    schemes: challenges.map((c) => c.scheme),
    error: bearer.parameters.error,
    resource_metadata: metadataURL,
    resource: prm.resource,
    authorization_servers: prm.authorization_servers,
    scopes_supported: prm.scopes_supported ?? [],
    issuer: as.issuer,
    token_endpoint: as.token_endpoint,
  };
  if (args.client !== undefined) {
    // The resource exactly as the document spells it (RFC 8707): a URL
    // object's href would add a trailing slash to a bare origin.
    const params = new URLSearchParams({ resource: prm.resource });
    if (args.scope) params.set('scope', args.scope);
    const tokRes = await oauth.clientCredentialsGrantRequest(
      as, { client_id: args.client }, oauth.ClientSecretBasic(args.secret), params, insecure);
    const tok = await oauth.processClientCredentialsResponse(as, { client_id: args.client }, tokRes);
    const call = await fetch(url, { headers: { authorization: `Bearer ${tok.access_token}` } });
    await call.body?.cancel();
    out.token = { scope: tok.scope, call_status: call.status };
  }
  return out;
}

try {
  const args = parseArgs(process.argv.slice(2));
  const mcp = await withMCP(args.url);
  const o4w = await withOAuth4WebAPI(args.url, args);
  process.stdout.write(`${JSON.stringify({ url: args.url, mcp, oauth4webapi: o4w })}\n`);
} catch (err) {
  process.stderr.write(`mcpdiscover: ${err?.stack ?? err}\n`);
  if (err?.cause) process.stderr.write(`cause: ${JSON.stringify(err.cause)}\n`);
  process.exit(1);
}

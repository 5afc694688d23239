#!/usr/bin/env bash
# Self-check for the loopback OpenID provider harness.
#
#   bash check.sh              # npm ci, start server, exercise it, stop it
#   SKIP_NPM_CI=1 bash check.sh  # reuse the existing node_modules
#
# Exits non-zero on the first failed check. Needs bash, node and curl.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
die() {
  failed=$((failed + 1))
  printf 'FAIL %s\n' "$*" >&2
  exit 1
}

for tool in node npm curl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done

work="$(mktemp -d)"
server_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -s "$work/server.err" ]]; then
    echo '--- server stderr ---' >&2
    tail -n 40 "$work/server.err" >&2
  fi
  rm -rf "$work"
  if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi
  echo "check.sh: $passed passed, $failed failed"
  exit "$rc"
}
trap cleanup EXIT

# ------------------------------------------------------------ npm ci
if [[ "${SKIP_NPM_CI:-0}" != 1 ]]; then
  start=$(date +%s)
  npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1 || {
    cat "$work/npm.log" >&2
    die 'npm ci'
  }
  ok "npm ci ($(($(date +%s) - start))s)"
fi
[[ -d node_modules/oidc-provider ]] || die 'node_modules/oidc-provider missing (run without SKIP_NPM_CI=1)'

t0=$(date +%s)

# Small JSON / JWT helper. Usage: js <command> [args...]
#   get <file> <dotted.path>          print a JSON value (strings raw, others as JSON)
#   kids <jwks-file>                  print the kids, one per line
#   header|payload <jwt>              print the decoded part as JSON
#   verify <jwt> <jwks-file>          verify the signature with the matching kid
#   claims <jwt> <alg> <iss> <aud> <scope> <client_id>
#                                     check header and payload, print kid
# shellcheck disable=SC2016
helper='
import { readFileSync } from "node:fs";
import { createPublicKey, verify, constants } from "node:crypto";
const [cmd, ...args] = process.argv.slice(1);
const readJson = (f) => JSON.parse(readFileSync(f, "utf8"));
const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split(".")[i], "base64url").toString("utf8"));
const fail = (msg) => { console.error(msg); process.exit(1); };
const expectKty = { RS256: "RSA", PS256: "RSA", ES256: "EC", EdDSA: "OKP" };
function verifyJwt(jwt, jwks) {
  const [h, p, s] = jwt.split(".");
  const header = part(jwt, 0);
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) fail(`kid ${header.kid} not in JWKS`);
  if (jwk.kty !== expectKty[header.alg]) fail(`kid ${header.kid} is ${jwk.kty}, alg is ${header.alg}`);
  if (jwk.alg !== undefined && jwk.alg !== header.alg) fail(`JWK alg ${jwk.alg} != header alg ${header.alg}`);
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, "base64url");
  let good;
  switch (header.alg) {
    case "RS256": good = verify("sha256", data, key, sig); break;
    case "PS256": good = verify("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig); break;
    case "ES256": good = verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, sig); break;
    case "EdDSA": good = verify(null, data, key, sig); break;
    default: fail(`unexpected alg ${header.alg}`);
  }
  if (!good) fail(`bad signature (kid ${header.kid})`);
}
switch (cmd) {
  case "get": {
    let v = readJson(args[0]);
    for (const k of args[1].split(".")) v = v?.[k];
    if (v === undefined) fail(`${args[1]} missing in ${args[0]}`);
    console.log(typeof v === "string" ? v : JSON.stringify(v));
    break;
  }
  case "kids": for (const k of readJson(args[0]).keys) console.log(k.kid); break;
  case "header": console.log(JSON.stringify(part(args[0], 0))); break;
  case "payload": console.log(JSON.stringify(part(args[0], 1))); break;
  case "verify": verifyJwt(args[0], readJson(args[1])); break;
  case "claims": {
    const [jwt, alg, iss, aud, scope, clientId] = args;
    const h = part(jwt, 0);
    const p = part(jwt, 1);
    const want = (cond, msg) => { if (!cond) fail(`${msg}\n header=${JSON.stringify(h)}\n payload=${JSON.stringify(p)}`); };
    want(h.alg === alg, `alg ${h.alg} != ${alg}`);
    want(typeof h.kid === "string" && h.kid.length > 0, "kid missing");
    want(h.typ === "at+jwt", `typ ${h.typ} != at+jwt`);
    want(p.iss === iss, `iss ${p.iss} != ${iss}`);
    want(p.aud === aud, `aud ${JSON.stringify(p.aud)} != ${aud}`);
    want(p.scope === scope, `scope ${JSON.stringify(p.scope)} != ${scope}`);
    want(p.client_id === clientId, `client_id ${p.client_id} != ${clientId}`);
    want(p.sub === clientId, `sub ${p.sub} != ${clientId}`);
    want(typeof p.jti === "string" && p.jti.length > 0, "jti missing");
    want(Number.isInteger(p.iat) && Number.isInteger(p.exp), "iat/exp missing");
    want(p.exp - p.iat === 600, `lifetime ${p.exp - p.iat}s != 600s`);
    want(Math.abs(p.iat - Date.now() / 1000) < 60, "iat not close to now");
    console.log(h.kid);
    break;
  }
  default: fail(`unknown helper command ${cmd}`);
}
'
js() { node --input-type=module -e "$helper" -- "$@"; }

# ------------------------------------------------------------ start
node server.mjs --port 0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

issuer=""
for _ in $(seq 1 150); do
  if [[ -s "$work/server.out" ]]; then
    line="$(head -n 1 "$work/server.out")"
    if [[ "$line" =~ ^READY\ (http://127\.0\.0\.1:[0-9]+)$ ]]; then
      issuer="${BASH_REMATCH[1]}"
      break
    fi
  fi
  kill -0 "$server_pid" 2>/dev/null || die 'server exited before READY'
  sleep 0.1
done
[[ -n "$issuer" ]] || die "no READY line within 15s (stdout: $(cat "$work/server.out"))"
ok "server READY at $issuer"

# ------------------------------------------------------------ discovery
curl -fsS "$issuer/.well-known/openid-configuration" -o "$work/discovery.json" || die 'discovery fetch'
[[ "$(js get "$work/discovery.json" issuer)" == "$issuer" ]] || die 'discovery issuer mismatch'
jwks_uri="$(js get "$work/discovery.json" jwks_uri)"
token_endpoint="$(js get "$work/discovery.json" token_endpoint)"
[[ "$jwks_uri" == "$issuer/"* && "$token_endpoint" == "$issuer/"* ]] || die "unexpected endpoints: $jwks_uri $token_endpoint"
ok "discovery: jwks_uri=$jwks_uri token_endpoint=$token_endpoint"

fetch_jwks() { # $1 = output file; headers go to $1.headers
  curl -fsS -D "$1.headers" "$jwks_uri" -o "$1" || die 'JWKS fetch'
}
fetch_jwks "$work/jwks1.json"
mapfile -t kids1 < <(js kids "$work/jwks1.json")
[[ ${#kids1[@]} -eq 3 ]] || die "expected 3 keys in JWKS, got ${#kids1[@]}"
[[ "$(printf '%s\n' "${kids1[@]}" | sort -u | wc -l)" -eq 3 ]] || die 'JWKS kids are not distinct'
mapfile -t admin_kids < <(curl -fsS "$issuer/__kids" | node --input-type=module -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).kids.join("\n")))')
[[ "${admin_kids[*]}" == "${kids1[*]}" ]] || die "/__kids (${admin_kids[*]}) != JWKS kids (${kids1[*]})"
cache_control="$(grep -i '^cache-control:' "$work/jwks1.json.headers" | tr -d '\r' || true)"
ok "JWKS: ${kids1[*]} (${cache_control:-no Cache-Control header})"

# ------------------------------------------------------------ tokens
declare -A client_alg=(
  [client-rs256]=RS256 [client-ps256]=PS256 [client-es256]=ES256 [client-eddsa]=EdDSA
)
clients=(client-rs256 client-ps256 client-es256 client-eddsa)
aud='urn:jwksauth:notes'
scope='example:note:read'

# get_token <client> <auth: basic|post> [extra curl args...] -> prints access_token
get_token() {
  local client="$1" auth="$2"
  shift 2
  local -a cred
  if [[ "$auth" == basic ]]; then
    cred=(-u "$client:secret")
  else
    cred=(--data-urlencode "client_id=$client" --data-urlencode 'client_secret=secret')
  fi
  curl -sS "${cred[@]}" \
    --data-urlencode 'grant_type=client_credentials' \
    --data-urlencode "scope=$scope" \
    "$@" "$token_endpoint" -o "$work/token.json" -w '%{http_code}' >"$work/token.status" || die "token request for $client"
  [[ "$(cat "$work/token.status")" == 200 ]] || die "token request for $client: HTTP $(cat "$work/token.status"): $(cat "$work/token.json")"
  [[ "$(js get "$work/token.json" token_type)" == Bearer ]] || die "token_type for $client"
  [[ "$(js get "$work/token.json" expires_in)" == 600 ]] || die "expires_in for $client"
  js get "$work/token.json" access_token
}

declare -A old_token old_kid
i=0
for client in "${clients[@]}"; do
  alg="${client_alg[$client]}"
  # Alternate client_secret_basic / client_secret_post, and send resource=
  # explicitly for half of them (the other half relies on the default resource).
  if ((i % 2 == 0)); then auth=basic; extra=(); else auth=post; extra=(--data-urlencode "resource=$aud"); fi
  i=$((i + 1))
  token="$(get_token "$client" "$auth" "${extra[@]}")"
  kid="$(js claims "$token" "$alg" "$issuer" "$aud" "$scope" "$client")" || die "claims for $client"
  printf '%s\n' "${kids1[@]}" | grep -qxF "$kid" || die "$client kid $kid not in JWKS"
  js verify "$token" "$work/jwks1.json" || die "signature for $client"
  old_token[$client]="$token"
  old_kid[$client]="$kid"
  ok "$client ($auth${extra:+, resource}) -> alg=$alg kid=$kid aud=$aud scope=$scope, signature valid"
done
echo "     sample header:  $(js header "${old_token[client-es256]}")"
echo "     sample payload: $(js payload "${old_token[client-es256]}")"

# ------------------------------------------------------------ rotation
curl -fsS -X POST "$issuer/__rotate" -o "$work/rotate.json" || die '/__rotate'
mapfile -t rotated < <(node --input-type=module -e 'import {readFileSync} from "node:fs"; console.log(JSON.parse(readFileSync(process.argv[1],"utf8")).kids.join("\n"))' "$work/rotate.json")
[[ ${#rotated[@]} -eq 3 ]] || die "rotate returned ${#rotated[@]} kids"
for k in "${rotated[@]}"; do
  printf '%s\n' "${kids1[@]}" | grep -qxF "$k" && die "rotated kid $k was already in use"
done
ok "rotated: ${kids1[*]} -> ${rotated[*]}"

fetch_jwks "$work/jwks2.json"
mapfile -t kids2 < <(js kids "$work/jwks2.json")
[[ "$(printf '%s\n' "${kids2[@]}" | sort)" == "$(printf '%s\n' "${rotated[@]}" | sort)" ]] ||
  die "JWKS after rotation (${kids2[*]}) != rotate response (${rotated[*]})"
for k in "${kids1[@]}"; do
  printf '%s\n' "${kids2[@]}" | grep -qxF "$k" && die "old kid $k still in JWKS"
done
ok "JWKS after rotation lists only the new kids"

for client in "${clients[@]}"; do
  alg="${client_alg[$client]}"
  if js verify "${old_token[$client]}" "$work/jwks2.json" 2>/dev/null; then
    die "old $client token still verifies against the rotated JWKS"
  fi
  token="$(get_token "$client" basic)"
  kid="$(js claims "$token" "$alg" "$issuer" "$aud" "$scope" "$client")" || die "claims for $client after rotation"
  [[ "$kid" != "${old_kid[$client]}" ]] || die "$client kid unchanged after rotation ($kid)"
  printf '%s\n' "${kids2[@]}" | grep -qxF "$kid" || die "$client new kid $kid not in rotated JWKS"
  js verify "$token" "$work/jwks2.json" || die "signature for $client after rotation"
  ok "$client after rotation -> kid ${old_kid[$client]} -> $kid, old token rejected, new token valid"
done

# ------------------------------------------------------------ stop
kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=""
[[ $rc -eq 0 ]] || die "server exited with status $rc on SIGTERM"
ok "server stopped cleanly on SIGTERM ($(($(date +%s) - t0))s since npm ci)"

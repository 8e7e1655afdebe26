// Signs a token with a key of a private JWK Set (see keys.mjs): the tests' way to make tokens
// the provider would not issue (expired, another audience) with the provider's own keys, and
// the classic forgery: HS256 keyed with the provider's public key.
//
//     node sign.mjs jwks.json kid '{"sub":"a","exp":1}' [typ] [RS256|HS256-public-key]
import { readFileSync } from 'node:fs';
import { createHmac, createPrivateKey, createPublicKey, sign } from 'node:crypto';

const [file, kid, claims, typ = 'at+jwt', mode = 'RS256'] = process.argv.slice(2);
const jwk = JSON.parse(readFileSync(file, 'utf8')).keys.find((k) => k.kid === kid);
const b64 = (value) => Buffer.from(value).toString('base64url');
const alg = mode === 'RS256' ? 'RS256' : 'HS256';
const input = `${b64(JSON.stringify({ alg, typ, kid }))}.${b64(claims)}`;
let signature;
if (mode === 'RS256') {
  signature = sign('RSA-SHA256', Buffer.from(input), createPrivateKey({ key: jwk, format: 'jwk' }));
} else {
  const publicPem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  signature = createHmac('sha256', publicPem).update(input).digest();
}
process.stdout.write(`${input}.${signature.toString('base64url')}`);

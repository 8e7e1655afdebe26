// Prints a private JWK Set for oidc-provider's `jwks` option: one RS256 signing key per kid
// given on the command line. The tests write it to a file, so they can rotate keys by
// restarting the provider with another set.
//
//     node keys.mjs new-kid old-kid > jwks.json
import { generateKeyPairSync } from 'node:crypto';

const keys = process.argv.slice(2).map((kid) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
});
process.stdout.write(JSON.stringify({ keys }));

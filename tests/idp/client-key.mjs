// A key pair for a client that authenticates with private_key_jwt (RFC 7523): its public
// JWK Set for the provider (CLIENT_JWKS) and the PEMs the app signs its assertions with.
//
//     node client-key.mjs kid
import { generateKeyPairSync } from 'node:crypto';

const kid = process.argv[2] ?? 'client';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
process.stdout.write(JSON.stringify({
  jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] },
  private_pem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
  public_pem: publicKey.export({ type: 'spki', format: 'pem' }),
}));

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * The identity world of docker-compose.yml, read from the file Dex runs with there
 * (deploy/dex/config.yaml): its static client and its static users. The Hydra-backed tests serve
 * exactly this client and these users, so the compose file's client id, secret, user, password hash
 * and groups are exercised by a real OpenID Provider rather than only parsed.
 */

export const COMPOSE_DEX_CONFIG = resolve(import.meta.dirname, '../../deploy/dex/config.yaml');

/** The password docker-compose.yml's header tells people to sign in with. */
export const COMPOSE_DEMO_PASSWORD = 'demo-password';

const staticPassword = z.object({
  email: z.email(),
  /** bcrypt, as Dex stores it. */
  hash: z.string().regex(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/),
  username: z.string().min(1),
  preferredUsername: z.string().min(1).optional(),
  userID: z.string().min(1),
  groups: z.array(z.string().min(1)).default([]),
});

const dexConfig = z.object({
  issuer: z.url(),
  staticPasswords: z.array(staticPassword).min(1),
  staticClients: z
    .array(
      z.object({
        id: z.string().min(1),
        secret: z.string().min(6),
        redirectURIs: z.array(z.url()).min(1),
      }),
    )
    .min(1),
});

/** One of Dex's `staticPasswords`: users sign in with the email and the password the hash is of. */
export type StaticPassword = z.infer<typeof staticPassword>;
export type ComposeDexConfig = z.infer<typeof dexConfig>;

export function readComposeDexConfig(file = COMPOSE_DEX_CONFIG): ComposeDexConfig {
  return dexConfig.parse(parse(readFileSync(file, 'utf8')));
}

import type { Clock } from '../clock.ts';
import { SwiftError } from '../errors.ts';
import { fernetDecrypt, FernetInvalidError } from './fernet.ts';
import type { FernetKeys } from './key-repository.ts';
import { type RevocationList, tokenFacts } from './revocation.ts';
import { decodeTokenPayload, TokenPayloadError, type TokenPayload } from './token-payload.ts';

/** Why a token was refused: not one of ours (`invalid`), past its expiry, or revoked. */
export type TokenRefusal = 'invalid' | 'expired' | 'revoked';

export class TokenRefusedError extends SwiftError {
  readonly reason: TokenRefusal;

  constructor(reason: TokenRefusal, detail?: string) {
    super(`TOKEN_${reason.toUpperCase()}`, `token ${reason}${detail ? `: ${detail}` : ''}`);
    this.reason = reason;
  }
}

/**
 * Keystone's `[token] allow_expired_window` (48 h): how long past its expiry a token is still
 * accepted where expired ones are allowed (`allow_expired`, or a service token beside it).
 */
export const ALLOW_EXPIRED_WINDOW_MS = 48 * 3600 * 1000;

/** A token that opened: what it says, and when it was issued (ms, whole seconds). */
export interface ValidatedToken extends TokenPayload {
  readonly issuedAt: number;
}

/**
 * Local token validation, for the identity service and the proxy alike: open the Fernet
 * envelope with the key repository, decode the payload, check the expiry and the known
 * revocation events. No request to anyone; the revocation list is kept current by a
 * `RevocationPoller`.
 */
export class TokenValidator {
  private readonly keys: FernetKeys;
  private readonly revocations: RevocationList;
  private readonly clock: Clock;

  constructor(keys: FernetKeys, revocations: RevocationList, clock: Clock) {
    this.keys = keys;
    this.revocations = revocations;
    this.clock = clock;
  }

  /**
   * @param options.allowExpired accept a token up to `ALLOW_EXPIRED_WINDOW_MS` past its expiry
   * (Keystone's `allow_expired`); revoked ones are still refused.
   * @throws {TokenRefusedError}
   */
  validate(token: string, options: { allowExpired?: boolean } = {}): ValidatedToken {
    let opened: { plaintext: Buffer; timestamp: number };
    let payload: TokenPayload;
    try {
      opened = fernetDecrypt(this.keys.keys, token);
      payload = decodeTokenPayload(opened.plaintext);
    } catch (err) {
      if (err instanceof FernetInvalidError || err instanceof TokenPayloadError) throw new TokenRefusedError('invalid', err.message);
      throw err;
    }
    const issuedAt = opened.timestamp * 1000;
    const window = options.allowExpired ? ALLOW_EXPIRED_WINDOW_MS : 0;
    if (payload.expiresAt + window <= this.clock.now()) throw new TokenRefusedError('expired');
    if (this.revocations.revoked(tokenFacts(payload, issuedAt))) throw new TokenRefusedError('revoked');
    return { ...payload, issuedAt };
  }
}

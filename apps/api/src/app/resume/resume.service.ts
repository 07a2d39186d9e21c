import { BadRequestException, GatewayTimeoutException, Injectable, PreconditionFailedException, ServiceUnavailableException } from '@nestjs/common';
import { formatViolation, JsonResume, validateResume } from '@vita/contracts';
import { CommitUnconfirmedError, PrimaryDatabase } from '../db/primary.service';
import { ReadDatabases } from '../db/read-databases.service';
import { writeResume } from '../db/resume.store';
import { storageViolations } from '../db/storable';
import { etagOf, IfMatch, ifMatchHolds, preconditionFailure } from './etag';

export interface CurrentResume {
  version: number;
  updatedAt: Date;
  document: JsonResume;
  json: string;
}

@Injectable()
export class ResumeService {
  constructor(
    private readonly reads: ReadDatabases,
    private readonly primary: PrimaryDatabase,
  ) {}

  /** The document as the active read database holds it. */
  current(): CurrentResume {
    const doc = this.reads.document();
    if (!doc) throw new ServiceUnavailableException('no read database is reachable');
    return doc;
  }

  /**
   * Validates (the schema's rules, then what the store could not give back as sent), then replaces
   * the whole document on the primary in one transaction, if `condition` holds.
   */
  async replace(body: unknown, condition: IfMatch = { kind: 'none' }): Promise<{ version: number }> {
    const violations = [...validateResume(body), ...storageViolations(body)];
    if (violations.length > 0) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: `the résumé has ${violations.length} error(s): ${violations.slice(0, 3).map(formatViolation).join('; ')}${violations.length > 3 ? '; …' : ''}`,
        violations,
      });
    }
    let from: number | undefined;
    try {
      return await this.primary.transaction(async (manager) => {
        const result = await writeResume(manager, body as JsonResume, (current) => ifMatchHolds(condition, current));
        if (result.conflict || result.version === undefined) throw new PreconditionFailedException(preconditionFailure(condition, result.version));
        from = result.version - 1;
        return { version: result.version };
      });
    } catch (err) {
      if (err instanceof CommitUnconfirmedError && from !== undefined) throw outcomeUnknown(err.message, from);
      throw err;
    }
  }
}

/**
 * 504: the primary did not confirm the commit, so the write may or may not have been applied.
 * Saying "not applied" could be false and make a client write twice; the client is told how to find out.
 */
function outcomeUnknown(reason: string, from: number): GatewayTimeoutException {
  const to = from + 1;
  return new GatewayTimeoutException({
    statusCode: 504,
    error: 'Gateway Timeout',
    message:
      `${reason}: the write may or may not have been applied (outcome unknown). ` +
      `If it was, the résumé is at version ${to} (ETag ${etagOf(to)}): check with GET /api/v1/resume once the replicas have it, ` +
      `or send the write again with If-Match: ${etagOf(from)}, which applies it only if it was not (412 means it was, or another write came first).`,
    outcome: 'unknown',
    versionIfApplied: to,
  });
}

import { BadRequestException, Injectable, PreconditionFailedException, ServiceUnavailableException } from '@nestjs/common';
import { formatViolation, JsonResume, validateResume } from '@vita/contracts';
import { PrimaryDatabase } from '../db/primary.service';
import { ReadDatabases } from '../db/read-databases.service';
import { writeResume } from '../db/resume.store';

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

  /** Validates, then replaces the whole document on the primary in one transaction. */
  async replace(body: unknown, expectedVersion?: number): Promise<{ version: number }> {
    const violations = validateResume(body);
    if (violations.length > 0) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: `the résumé has ${violations.length} error(s): ${violations.slice(0, 3).map(formatViolation).join('; ')}${violations.length > 3 ? '; …' : ''}`,
        violations,
      });
    }
    const result = await this.primary.transaction((manager) => writeResume(manager, body as JsonResume, expectedVersion));
    if (result.conflict) {
      throw new PreconditionFailedException(`the résumé is at version ${result.version}, not ${expectedVersion}: fetch it again first`);
    }
    return { version: result.version };
  }
}

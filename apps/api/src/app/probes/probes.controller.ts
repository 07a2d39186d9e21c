import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import { describeError } from '../db/data-source';
import { Probe } from '../db/entities';
import { ReadDatabases } from '../db/read-databases.service';

/** The original design's monitoring calls. */
@Controller('api/v1')
export class ProbesController {
  constructor(private readonly reads: ReadDatabases) {}

  /** The app server answers; touches no database. */
  @Get('testapi')
  @Header('Cache-Control', 'no-store')
  testapi() {
    return { status: 'ok', service: 'api', time: new Date().toISOString() };
  }

  /** Reads the fixed probe row through the read databases (local replica first). */
  @Get('testdb')
  @Header('Cache-Control', 'no-store')
  async testdb() {
    try {
      const row = await this.reads.query((db) => db.getRepository(Probe).findOneBy({ id: 1 }));
      if (!row) throw new Error('the probe row is missing: run the migrations');
      return { status: 'ok', message: row.message, database: this.reads.active?.name };
    } catch (err) {
      throw new ServiceUnavailableException(`database probe failed: ${describeError(err)}`);
    }
  }
}

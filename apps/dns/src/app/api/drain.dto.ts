import { Transform } from 'class-transformer';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

/** Body of drain and undrain: why (it goes to the audit log, the status page and the peers). */
export class DrainBody {
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @IsNotEmpty({ message: 'reason must say why (it goes to the audit log)' })
  @MaxLength(500)
  // eslint-disable-next-line no-control-regex
  @Matches(/^[^\u0000-\u001f\u007f-\u009f]*$/, { message: 'reason must not hold control characters' })
  reason!: string;
}

import {
  IsResumeDate as IsDate,
  IsResumeEmail as IsEmail,
  IsResumeObject as IsObject,
  IsResumeObjectArray as IsObjectArray,
  IsResumeString as IsString,
  IsResumeStringArray as IsStringArray,
  IsResumeUri as IsUri,
} from './resume.rules';

/*
 * The JSON Resume schema as `@jsonresume/schema` 1.3.x publishes it, as DTO classes. Every property
 * is optional, every object (the document too) allows additional properties (hence the index
 * signatures), and `declare` keeps `new Dto()` free of own `undefined` keys so instances round-trip
 * unchanged. Classes used by `@IsObject`/`@IsObjectArray` are declared before their users
 * (decorator metadata reads them eagerly).
 */

/** `basics.location` */
export class LocationDto {
  [key: string]: unknown;
  @IsString() declare address?: string;
  @IsString() declare postalCode?: string;
  @IsString() declare city?: string;
  /** ISO-3166-1 ALPHA-2 by convention; the schema does not enforce it. */
  @IsString() declare countryCode?: string;
  @IsString() declare region?: string;
}

/** `basics.profiles[]` */
export class ProfileDto {
  [key: string]: unknown;
  @IsString() declare network?: string;
  @IsString() declare username?: string;
  @IsUri() declare url?: string;
}

/** `basics` */
export class BasicsDto {
  [key: string]: unknown;
  @IsString() declare name?: string;
  @IsString() declare label?: string;
  /** Described as a URL, but the schema has no `format` on it: any string. */
  @IsString() declare image?: string;
  @IsEmail() declare email?: string;
  @IsString() declare phone?: string;
  @IsUri() declare url?: string;
  @IsString() declare summary?: string;
  @IsObject(() => LocationDto) declare location?: LocationDto;
  @IsObjectArray(() => ProfileDto) declare profiles?: ProfileDto[];
}

/** Properties shared by `work[]` and `volunteer[]`. */
export abstract class PositionDto {
  [key: string]: unknown;
  @IsString() declare position?: string;
  @IsUri() declare url?: string;
  @IsDate() declare startDate?: string;
  @IsDate() declare endDate?: string;
  @IsString() declare summary?: string;
  @IsStringArray() declare highlights?: string[];
}

/** `work[]` */
export class WorkDto extends PositionDto {
  @IsString() declare name?: string;
  /** A free-text place (e.g. "Menlo Park, CA"), not a location object. */
  @IsString() declare location?: string;
  @IsString() declare description?: string;
}

/** `volunteer[]` */
export class VolunteerDto extends PositionDto {
  @IsString() declare organization?: string;
}

/** `education[]` */
export class EducationDto {
  [key: string]: unknown;
  @IsString() declare institution?: string;
  @IsUri() declare url?: string;
  @IsString() declare area?: string;
  @IsString() declare studyType?: string;
  @IsDate() declare startDate?: string;
  @IsDate() declare endDate?: string;
  @IsString() declare score?: string;
  @IsStringArray() declare courses?: string[];
}

/** `awards[]` */
export class AwardDto {
  [key: string]: unknown;
  @IsString() declare title?: string;
  @IsDate() declare date?: string;
  @IsString() declare awarder?: string;
  @IsString() declare summary?: string;
}

/** `certificates[]` */
export class CertificateDto {
  [key: string]: unknown;
  @IsString() declare name?: string;
  @IsDate() declare date?: string;
  @IsUri() declare url?: string;
  @IsString() declare issuer?: string;
}

/** `publications[]` */
export class PublicationDto {
  [key: string]: unknown;
  @IsString() declare name?: string;
  @IsString() declare publisher?: string;
  @IsDate() declare releaseDate?: string;
  @IsUri() declare url?: string;
  @IsString() declare summary?: string;
}

/** `skills[]` */
export class SkillDto {
  [key: string]: unknown;
  @IsString() declare name?: string;
  @IsString() declare level?: string;
  @IsStringArray() declare keywords?: string[];
}

/** `languages[]` */
export class LanguageDto {
  [key: string]: unknown;
  @IsString() declare language?: string;
  @IsString() declare fluency?: string;
}

/** `interests[]` */
export class InterestDto {
  [key: string]: unknown;
  @IsString() declare name?: string;
  @IsStringArray() declare keywords?: string[];
}

/** `references[]` */
export class ReferenceDto {
  [key: string]: unknown;
  @IsString() declare name?: string;
  @IsString() declare reference?: string;
}

/** `projects[]` */
export class ProjectDto {
  [key: string]: unknown;
  @IsString() declare name?: string;
  @IsString() declare description?: string;
  @IsStringArray() declare highlights?: string[];
  @IsStringArray() declare keywords?: string[];
  @IsDate() declare startDate?: string;
  @IsDate() declare endDate?: string;
  @IsUri() declare url?: string;
  @IsStringArray() declare roles?: string[];
  @IsString() declare entity?: string;
  @IsString() declare type?: string;
}

/** `meta` */
export class MetaDto {
  [key: string]: unknown;
  @IsUri() declare canonical?: string;
  @IsString() declare version?: string;
  /** Described as `YYYY-MM-DDThh:mm:ss`, but the schema only requires a string. */
  @IsString() declare lastModified?: string;
}

/**
 * The whole document: `$schema`, the 13 sections, and any other key (the schema's root allows
 * additional properties since 1.x; v1.0.0 did not).
 */
export class ResumeDto {
  [key: string]: unknown;
  @IsUri() declare $schema?: string;
  @IsObject(() => BasicsDto) declare basics?: BasicsDto;
  @IsObjectArray(() => WorkDto) declare work?: WorkDto[];
  @IsObjectArray(() => VolunteerDto) declare volunteer?: VolunteerDto[];
  @IsObjectArray(() => EducationDto) declare education?: EducationDto[];
  @IsObjectArray(() => AwardDto) declare awards?: AwardDto[];
  @IsObjectArray(() => CertificateDto) declare certificates?: CertificateDto[];
  @IsObjectArray(() => PublicationDto) declare publications?: PublicationDto[];
  @IsObjectArray(() => SkillDto) declare skills?: SkillDto[];
  @IsObjectArray(() => LanguageDto) declare languages?: LanguageDto[];
  @IsObjectArray(() => InterestDto) declare interests?: InterestDto[];
  @IsObjectArray(() => ReferenceDto) declare references?: ReferenceDto[];
  @IsObjectArray(() => ProjectDto) declare projects?: ProjectDto[];
  @IsObject(() => MetaDto) declare meta?: MetaDto;
}

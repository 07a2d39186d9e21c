import type {
  AwardDto,
  BasicsDto,
  CertificateDto,
  EducationDto,
  InterestDto,
  LanguageDto,
  LocationDto,
  MetaDto,
  ProfileDto,
  ProjectDto,
  PublicationDto,
  ReferenceDto,
  ResumeDto,
  SkillDto,
  VolunteerDto,
  WorkDto,
} from './resume.dto';

/*
 * Plain shapes of a JSON Resume document. The DTO classes carry no methods or private
 * members, so these aliases are purely structural: any plain object literal of the right
 * shape is assignable, and extra keys are allowed at every level.
 */
export type JsonResume = ResumeDto;
export type ResumeBasics = BasicsDto;
export type ResumeLocation = LocationDto;
export type ResumeProfile = ProfileDto;
export type ResumeWork = WorkDto;
export type ResumeVolunteer = VolunteerDto;
export type ResumeEducation = EducationDto;
export type ResumeAward = AwardDto;
export type ResumeCertificate = CertificateDto;
export type ResumePublication = PublicationDto;
export type ResumeSkill = SkillDto;
export type ResumeLanguage = LanguageDto;
export type ResumeInterest = InterestDto;
export type ResumeReference = ReferenceDto;
export type ResumeProject = ProjectDto;
export type ResumeMeta = MetaDto;

/** The 13 top-level sections, in the schema's order. */
export const RESUME_SECTIONS = [
  'basics',
  'work',
  'volunteer',
  'education',
  'awards',
  'certificates',
  'publications',
  'skills',
  'languages',
  'interests',
  'references',
  'projects',
  'meta',
] as const;

export type ResumeSection = (typeof RESUME_SECTIONS)[number];

export const isResumeSection = (s: string): s is ResumeSection =>
  (RESUME_SECTIONS as readonly string[]).includes(s);

/** One schema violation: a JSON path such as `work[2].startDate` and a short message. */
export interface ResumeViolation {
  path: string;
  message: string;
}

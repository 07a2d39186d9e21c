export * from './resume.dto';
export * from './resume.types';
export { ISO8601_PATTERN, isEmail as isResumeEmail, isIso8601, isUri as isResumeUri } from './resume.formats';
export { formatViolation, validateResume } from './resume.validate';

import { InitialSchema1764079200000 } from './1764079200000-InitialSchema';

/** Every migration, oldest first. */
export const MIGRATIONS = [InitialSchema1764079200000];

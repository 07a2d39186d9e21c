import { InitialSchema1764079200000 } from './1764079200000-InitialSchema';
import { SiteNodes1764856800000 } from './1764856800000-SiteNodes';

/** Every migration, oldest first. */
export const MIGRATIONS = [InitialSchema1764079200000, SiteNodes1764856800000];

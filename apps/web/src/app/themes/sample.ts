import type { JsonResume } from '@vita/contracts';

/**
 * The document a theme renders once at start-up, before any api is asked: every section, with the
 * fields themes commonly read without checking (a location's address, a profile's network).
 */
export const THEME_CHECK_DOCUMENT: JsonResume = {
  basics: {
    name: 'Sample Person',
    label: 'Engineer',
    email: 'person@example.org',
    phone: '+1 555 0100',
    url: 'https://example.org',
    summary: 'A sample document web renders once with the theme before serving.',
    location: { address: '1 Main Street', postalCode: '00000', city: 'Springfield', countryCode: 'US', region: 'State' },
    profiles: [{ network: 'GitHub', username: 'sample', url: 'https://github.com/sample' }],
  },
  work: [{ name: 'Company', position: 'Engineer', url: 'https://example.org', startDate: '2020-01-01', endDate: '2021-06', summary: 'Work.', highlights: ['One thing'] }],
  volunteer: [{ organization: 'Club', position: 'Helper', url: 'https://example.org', startDate: '2019-01', summary: 'Help.', highlights: ['Another thing'] }],
  education: [{ institution: 'University', url: 'https://example.org', area: 'Science', studyType: 'Bachelor', startDate: '2014-09', endDate: '2018-06', score: '4.0', courses: ['Course'] }],
  awards: [{ title: 'Award', date: '2020-05-01', awarder: 'Someone', summary: 'For something.' }],
  certificates: [{ name: 'Certificate', date: '2021-01-01', issuer: 'Issuer', url: 'https://example.org' }],
  publications: [{ name: 'Paper', publisher: 'Journal', releaseDate: '2020-10-01', url: 'https://example.org', summary: 'About it.' }],
  skills: [{ name: 'Skill', level: 'Master', keywords: ['Keyword'] }],
  languages: [{ language: 'English', fluency: 'Native speaker' }],
  interests: [{ name: 'Interest', keywords: ['Keyword'] }],
  references: [{ name: 'Reference', reference: 'Good.' }],
  projects: [{ name: 'Project', description: 'A project.', highlights: ['Highlight'], keywords: ['Keyword'], startDate: '2019-01-01', endDate: '2020-01-01', url: 'https://example.org', roles: ['Lead'], entity: 'Entity', type: 'application' }],
};

export function mariadb(): string {
  return 'mariadb';
}

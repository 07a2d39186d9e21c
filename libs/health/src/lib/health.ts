export function health(): string {
  return 'health';
}

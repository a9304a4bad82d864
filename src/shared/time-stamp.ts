/** 2025-01-02T03:04:05.678Z -> 20250102T030405Z: a UTC time for file names, sorting as it reads. */
export function timeStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

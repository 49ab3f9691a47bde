/** What a secret value is shown as to everyone but admins. */
export const MASK = '***';

const words = (text: string): string[] =>
  text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

const sameWord = (a: string, b: string) => a === b || a === `${b}s` || b === `${a}s`;

/**
 * Decides which configuration keys hold secrets and masks them, in configuration maps and in connection strings
 * (a URL's password, secret query parameters, `Password=…;` pairs). Keys match word by word, case-insensitive, so
 * the pattern `apiKey` matches `apiKey`, `x-api-key` and `API_KEY`, and `key` matches `privateKey` but not `monkey`.
 */
export class SecretMasker {
  private readonly patterns: string[][];

  constructor(keys: readonly string[]) {
    this.patterns = keys.map(words).filter((pattern) => pattern.length > 0);
  }

  /** Parses SECRET_KEYS (comma-separated). */
  static fromList(list: string): SecretMasker {
    return new SecretMasker(list.split(','));
  }

  isSecretKey(key: string): boolean {
    const keyWords = words(key);
    return this.patterns.some((pattern) =>
      keyWords.some((_, start) =>
        pattern.every((word, i) => keyWords[start + i] !== undefined && sameWord(keyWords[start + i]!, word)),
      ),
    );
  }

  /** The map with every secret value replaced by `***`. */
  maskConfiguration(configuration: Record<string, string>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(configuration).map(([key, value]) => [key, this.isSecretKey(key) ? MASK : value]),
    );
  }

  /** A connection string with its password and secret parameters replaced by `***`. */
  maskConnectionString(value: string): string {
    return value
      .replace(
        /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)([^@/?#]*)(@)/i,
        (_, head: string, _secret, at: string) => `${head}${MASK}${at}`,
      )
      .replace(/(^|[?&;])(\s*[^=&;?#]+?\s*)=([^&;#]*)/g, (whole, sep: string, key: string) =>
        this.isSecretKey(key) ? `${sep}${key}=${MASK}` : whole,
      );
  }
}

/** DI token: time and randomness for the Genesys Platform clients (tests inject fakes; both optional). */
export const GENESYS_PLATFORM_CLOCK = Symbol('GENESYS_PLATFORM_CLOCK');

export interface GenesysPlatformClock {
  now?: () => number;
  /** In [0, 1), like Math.random; drives the jitter. */
  random?: () => number;
}

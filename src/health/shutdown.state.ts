import { type BeforeApplicationShutdown,Injectable } from '@nestjs/common';

/** Flips to draining as soon as shutdown begins, so readiness turns 503 at once. */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  draining = false;

  beforeApplicationShutdown(): void {
    this.draining = true;
  }
}

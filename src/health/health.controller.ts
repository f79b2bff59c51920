import { Controller, Get, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult,HealthCheckService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';

import { ReadinessIndicators } from './readiness.indicators.js';

@ApiTags('health')
@SkipThrottle()
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessIndicators,
  ) {}

  /**
   * Not through Terminus: it answers 503 to every check once shutdown begins, and a draining
   * process is still alive (a failed liveness probe must never kill it mid-drain).
   */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up and its event loop turns (stays 200 while draining)' })
  live(): HealthCheckResult {
    return { status: 'ok', info: {}, error: {}, details: {} };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: able to serve (not shutting down; CRMs reported as degraded, never down)' })
  ready(): Promise<HealthCheckResult> {
    return this.health.check(this.readiness.checks());
  }
}

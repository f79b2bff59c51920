import { NotFoundException, ServiceUnavailableException } from '@nestjs/common';

import type { ProfileResult } from './aggregation.service.js';
import type { Customer360 } from './customer360.schema.js';

/** A profile result as the REST API answers it: the view, 404 when no system knows the customer, 503 when none could tell. */
export function customerAnswer(result: ProfileResult): Customer360 {
  if (result.verdict === 'not_found') throw new NotFoundException(`Customer ${result.view.customerId} is not known to any system`);
  if (result.verdict === 'unavailable') throw new ServiceUnavailableException();
  return result.view;
}

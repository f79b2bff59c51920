import { BadRequestException, Injectable } from '@nestjs/common';

import { AggregationService, type ProfileResult } from './aggregation.service.js';
import { DirectoryService } from './directory.service.js';

export type LookupResult = ProfileResult & { otherMatches: string[] };

/** Finds a profile by customer number, phone or e-mail, all within one deadline. */
@Injectable()
export class CustomerLookupService {
  constructor(
    private readonly aggregation: AggregationService,
    private readonly directory: DirectoryService,
  ) {}

  byId(customerId: string): Promise<ProfileResult> {
    return this.aggregation.getProfile(customerId);
  }

  async byPhone(phone: string): Promise<LookupResult | undefined> {
    const e164 = this.directory.normalizePhone(phone);
    if (!e164) throw new BadRequestException({ message: ['phone must be a valid phone number'] });
    const deadlineAt = this.aggregation.deadline();
    return this.first(await this.directory.byPhone(e164, deadlineAt), deadlineAt);
  }

  async byEmail(email: string): Promise<LookupResult | undefined> {
    const deadlineAt = this.aggregation.deadline();
    return this.first(await this.directory.byEmail(email, deadlineAt), deadlineAt);
  }

  private async first(ids: string[], deadlineAt: number): Promise<LookupResult | undefined> {
    if (ids.length === 0) return undefined;
    const [first, ...others] = ids;
    return { ...(await this.aggregation.getProfile(first, deadlineAt)), otherMatches: others };
  }
}

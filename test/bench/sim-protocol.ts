/** What the bench and its simulator host process say to each other over IPC. */
import type { Simulators } from '../sandbox/simulators.js';

export type SimName = keyof Simulators;
export const SIM_NAMES: readonly SimName[] = ['salesforce', 'sap', 'servicenow', 'genesys'];
export const CRM_NAMES = ['salesforce', 'sap', 'servicenow'] as const;
export type CrmName = (typeof CRM_NAMES)[number];

export type HostCommand = { op: 'stop' | 'start'; sim: SimName } | { op: 'close' };
export type HostRequest = HostCommand & { id: number };
export type HostMessage = { ready: true; urls: Record<SimName, string> } | { id: number; ok: boolean; error?: string };

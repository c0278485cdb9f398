// Remote tasking from the user side: the choices rtask_create takes, by
// name, and their codes (RTASK in abi.gen.ts). yod passes them as one
// argument, ALGORITHM:CREATION:PAGING:NMS:VM_AREAS:THREADS.

import { RTASK } from './abi.gen.ts';

export const ALGORITHM_CODE = { ntc: RTASK.ALGORITHM_NTC, crtc: RTASK.ALGORITHM_CRTC } as const;
export const CREATION_CODE = { flat: RTASK.CREATION_FLAT, 'flat-mt': RTASK.CREATION_FLAT_MT, tree: RTASK.CREATION_TREE } as const;
export const PAGING_CODE = { flat: RTASK.PAGING_FLAT, tree: RTASK.PAGING_TREE } as const;

export type AlgorithmName = keyof typeof ALGORITHM_CODE;
export type CreationName = keyof typeof CREATION_CODE;
export type PagingName = keyof typeof PAGING_CODE;

export interface RtaskChoice {
  readonly algorithm: AlgorithmName;
  readonly creation: CreationName;
  readonly paging: PagingName;
  readonly nms: boolean;
  /** Areas of the template: the image's text, data and bss, then one-page areas. */
  readonly vmAreas: number;
  /** Creating threads at the source for flat-mt. */
  readonly threads: number;
}

/** The defaults: crtc's algorithm over its spanning tree, paging down the tree, NMS off, the image's own three areas. */
export const DEFAULT_RTASK: RtaskChoice = { algorithm: 'crtc', creation: 'tree', paging: 'tree', nms: false, vmAreas: 3, threads: 4 };

export function formatRtask(c: RtaskChoice): string {
  return [c.algorithm, c.creation, c.paging, c.nms ? 'nms' : 'no-nms', c.vmAreas, c.threads].join(':');
}

export function parseRtask(text: string): RtaskChoice | null {
  const [algorithm, creation, paging, nms, areas, threads] = text.split(':');
  if (!Object.hasOwn(ALGORITHM_CODE, algorithm) || !Object.hasOwn(CREATION_CODE, creation) || !Object.hasOwn(PAGING_CODE, paging)) return null;
  if (nms !== 'nms' && nms !== 'no-nms') return null;
  if (!/^\d{1,4}$/.test(areas ?? '') || !/^\d{1,2}$/.test(threads ?? '')) return null;
  return { algorithm: algorithm as AlgorithmName, creation: creation as CreationName, paging: paging as PagingName, nms: nms === 'nms', vmAreas: Number(areas), threads: Number(threads) };
}

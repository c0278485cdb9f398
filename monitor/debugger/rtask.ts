// `info rtask`: each node's remote-tasking jobs and tasks with their VM
// objects, as system/inspect.ts's rtaskView hands them over.

import type { RtaskNodeView } from '../../kernel/rtask/inspect.ts';

/** The lines `info rtask` prints. */
export function rtaskLines(views: readonly RtaskNodeView[]): string[] {
  if (views.length === 0) return ['no remote tasks on the booted nodes'];
  return views.flatMap((v) => [
    `node ${v.node}: ${v.stats.created} task(s) created here, ${v.stats.faults} copy-on-reference fault(s), ${v.stats.pagesFetched} page(s) fetched, ${v.stats.pagesServed} served, ${v.stats.attaches} attach(es), ${v.stats.detaches} detach(es), ${v.stats.timeouts} timeout(s)`,
    ...v.jobs.flatMap((j) => [
      `  job ${j.jobId} ${j.rank < 0 ? 'source' : `rank ${j.rank}`}${j.pid === null ? '' : ` pid ${j.pid}`}: ${j.state}, ${j.plan}${j.pagerNid === null ? '' : `, pages from node ${j.pagerNid}`}`,
      ...j.objects.map((o) => `    area ${o.area} (${o.kind}): ${o.resident}/${o.pages} page(s) resident, ${o.refs} child reference(s)${o.fetching > 0 ? `, ${o.fetching} being fetched` : ''}`),
    ]),
  ]);
}

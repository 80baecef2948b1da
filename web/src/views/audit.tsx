/** The audit log, newest first, and whether its hash chain is intact. */
import { useState } from 'preact/hooks';
import { type AuditChainCheck, type AuditEntry, get, type List, q } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { Empty, ErrorBox, Heading, Loading, Time } from '../ui.js';
import { Pager } from './project.js';

const PAGE = 50;

export function Audit() {
  const [offset, setOffset] = useState(0);
  const entries = useData(() => get<List<AuditEntry>>(`/audit${q({ limit: PAGE, offset })}`), [offset]);
  const chain = useData(() => get<AuditChainCheck>('/audit/verify'), []);
  useLive(() => {
    entries.reload();
    chain.reload();
  });
  const c = chain.data;
  return (
    <>
      <Heading title="Audit log">Audit log</Heading>
      {chain.error && <ErrorBox error={chain.error} retry={chain.reload} />}
      {!c && chain.loading && <Loading what="the chain status" />}
      {c &&
        (c.ok ? (
          <p class="chain ok" role="status">
            <span aria-hidden="true">✓</span> Hash chain intact: {c.checked} entr{c.checked === 1 ? 'y' : 'ies'} checked.
          </p>
        ) : (
          <p class="chain broken" role="alert">
            <span aria-hidden="true">✗</span> Hash chain broken at entry #{c.first_broken} ({c.checked} checked): an entry was edited,
            removed or reordered.
          </p>
        ))}
      {!entries.data && entries.loading && <Loading what="audit entries" />}
      {entries.error && <ErrorBox error={entries.error} retry={entries.reload} />}
      {entries.data && entries.data.items.length === 0 && <Empty>The audit log is empty.</Empty>}
      {entries.data && entries.data.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="list audit">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {entries.data.items.map((e) => (
                  <tr class={c && !c.ok && c.first_broken === e.seq ? 'broken' : undefined}>
                    <td data-label="#">{e.seq}</td>
                    <td data-label="When">
                      <Time at={e.at} />
                    </td>
                    <td data-label="Actor">{e.actor}</td>
                    <td data-label="Action">
                      <code>{e.action}</code>
                    </td>
                    <td data-label="Subject" class="wrap">
                      {e.subject}
                    </td>
                    <td data-label="Details" class="details">
                      {Object.entries(e.details)
                        .filter(([, v]) => v !== null && v !== '')
                        .map(([k, v]) => (
                          <span class="kv">
                            <span class="k">{k}</span> {typeof v === 'object' ? JSON.stringify(v) : String(v)}
                          </span>
                        ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} total={entries.data.total} page={PAGE} onPage={setOffset} />
        </>
      )}
    </>
  );
}

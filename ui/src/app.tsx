import { useEffect, useState } from 'preact/hooks';
import { Api, type Field } from './api';
import { SharedContext, loadZone, useHashState, useZone } from './hooks';
import { type State, type View, defaults, format } from './state';
import { Dashboard } from './views/Dashboard';
import { Explorer } from './views/Explorer';
import { Flows } from './views/Flows';

const api = new Api();
loadZone();

const TITLES: Record<View, string> = { dashboard: 'Dashboard', explorer: 'Explorer', flows: 'Flows' };

/** A link to another view keeps the range and the filter. */
function linkTo(view: View, s: State): string {
  return format({ ...defaults(view), range: s.range, filter: s.filter });
}

export function App() {
  const state = useHashState();
  // Redrawn when the time zone changes, with every view under it.
  const [zone] = useZone();
  const [fields, setFields] = useState<Field[]>([]);
  useEffect(() => {
    api.fields().then(setFields, () => setFields([]));
  }, []);
  useEffect(() => {
    document.title = `${TITLES[state.view]} · Weir`;
  }, [state.view]);

  return (
    <SharedContext.Provider value={{ api, fields }}>
      <header class="top">
        <a class="brand" href="#/dashboard">
          Weir
        </a>
        <nav>
          {(Object.keys(TITLES) as View[]).map((v) => (
            <a href={linkTo(v, state)} class={state.view === v ? 'on' : ''} data-view={v}>
              {TITLES[v]}
            </a>
          ))}
        </nav>
      </header>
      <main key={zone}>
        {state.view === 'dashboard' && <Dashboard state={state} />}
        {state.view === 'explorer' && <Explorer state={state} />}
        {state.view === 'flows' && <Flows state={state} />}
      </main>
    </SharedContext.Provider>
  );
}

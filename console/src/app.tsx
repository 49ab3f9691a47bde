import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, Suspense, type ReactNode } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { setUnauthorizedHandler } from './api/client';
import { isApiError } from './api/errors';
import { SESSION_KEY, useSession, useSignOut, type Session } from './api/session';
import { ErrorState, Loading } from './components/states';
import { CallbackPage } from './pages/callback-page';
import { FlowsPage } from './pages/flows-page';
import { LoginPage } from './pages/login-page';
import { NotFoundPage } from './pages/not-found-page';

// The flow page carries the graph libraries (React Flow, the ELK client): loaded when first opened.
const FlowPage = lazy(() => import('./pages/flow-page').then((m) => ({ default: m.FlowPage })));
// The definitions page also carries the code editor (CodeMirror and the schema checks).
const DefinitionsPage = lazy(() =>
  import('./pages/definitions-page').then((m) => ({ default: m.DefinitionsPage })),
);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal (4xx) will not change by asking again; a rate limit or an outage may.
      retry: (count, error) =>
        count < 2 &&
        !(isApiError(error) && error.status >= 400 && error.status < 500 && error.status !== 429),
    },
  },
});

// A 401 anywhere means the session ended: show the sign-in page.
setUnauthorizedHandler(() => queryClient.setQueryData(SESSION_KEY, null));

/** The console: served by the API under /ui/, every route below it. */
export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <Router base="/ui">
        <Switch>
          <Route path="/callback" component={CallbackPage} />
          <Route>
            <SignedIn />
          </Route>
        </Switch>
      </Router>
    </QueryClientProvider>
  );
}

function SignedIn() {
  const session = useSession();
  if (session.isPending)
    return (
      <main id="main">
        <Loading what="your session" />
      </main>
    );
  if (session.isError)
    return (
      <main id="main">
        <h1>FlowOrchestrator console</h1>
        <ErrorState
          title="The API cannot be reached."
          error={session.error}
          onRetry={() => void session.refetch()}
        />
      </main>
    );
  if (!session.data) return <LoginPage />;
  return (
    <Shell session={session.data}>
      {/* Pages: add a route here and, for a top-level page, a link in the header's nav. */}
      <Switch>
        <Route path="/" component={FlowsPage} />
        <Route path="/flows/:id" component={FlowPage} />
        <Route path="/definitions" component={DefinitionsPage} />
        <Route path="/login">
          <Redirect to="/" replace />
        </Route>
        <Route component={NotFoundPage} />
      </Switch>
    </Shell>
  );
}

function Shell({ session, children }: { session: Session; children: ReactNode }) {
  const signOut = useSignOut();
  const [location] = useLocation();
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          FlowOrchestrator
        </Link>
        <nav aria-label="Main">
          <Link
            href="/"
            aria-current={location === '/' || location.startsWith('/flows') ? 'page' : undefined}
          >
            Flows
          </Link>
          <Link href="/definitions" aria-current={location.startsWith('/definitions') ? 'page' : undefined}>
            Definitions
          </Link>
        </nav>
        <div className="who">
          <span>
            {session.name} <span className="pill">{session.role}</span>
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading what="the page" />}>{children}</Suspense>
      </main>
    </>
  );
}

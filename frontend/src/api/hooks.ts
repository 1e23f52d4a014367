// React hooks over `request`: a query that loads on mount and when its variables
// change, and a mutation that remembers its last error for the form that sent it.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentString } from '../gql/graphql';
import { ApiError, request } from './client';

export interface QueryState<TResult> {
  data: TResult | undefined;
  error: ApiError | undefined;
  loading: boolean;
  refetch: () => void;
}

export function useQuery<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables?: TVariables,
  options: { skip?: boolean } = {},
): QueryState<TResult> {
  const [data, setData] = useState<TResult>();
  const [error, setError] = useState<ApiError>();
  const [attempt, setAttempt] = useState(0);
  // Variables arrive as fresh objects each render; their JSON is the identity.
  const key = JSON.stringify(variables ?? {});
  // Loading until the request for these variables (and this refetch) has its answer.
  const wanted = `${attempt}:${key}`;
  const [answered, setAnswered] = useState<string>();
  const loading = !options.skip && answered !== wanted;

  useEffect(() => {
    if (options.skip) return;
    const controller = new AbortController();
    request(document, JSON.parse(key) as TVariables, controller.signal)
      .then((result) => {
        setData(result);
        setError(undefined);
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setError(err instanceof ApiError ? err : new ApiError(String(err)));
      })
      .finally(() => {
        if (!controller.signal.aborted) setAnswered(`${attempt}:${key}`);
      });
    return () => controller.abort();
  }, [document, key, attempt, options.skip]);

  const refetch = useCallback(() => setAttempt((n) => n + 1), []);
  return { data, error, loading, refetch };
}

export interface MutationState<TResult, TVariables> {
  /** Resolves to the result, or to undefined after storing the error. */
  run: (variables: TVariables) => Promise<TResult | undefined>;
  pending: boolean;
  error: ApiError | undefined;
  /** The last successful result. */
  data: TResult | undefined;
  reset: () => void;
}

export function useMutation<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>): MutationState<TResult, TVariables> {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [data, setData] = useState<TResult>();
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const run = useCallback(
    async (variables: TVariables) => {
      setPending(true);
      setError(undefined);
      try {
        const result = await request(document, variables);
        if (mounted.current) setData(result);
        return result;
      } catch (err) {
        if (mounted.current) setError(err instanceof ApiError ? err : new ApiError(String(err)));
        return undefined;
      } finally {
        if (mounted.current) setPending(false);
      }
    },
    [document],
  );
  const reset = useCallback(() => setError(undefined), []);
  return { run, pending, error, data, reset };
}

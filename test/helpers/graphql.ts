/** A JSON response of a GraphQL server, parsed. */
export interface GraphQLResponse {
  status: number;
  headers: Headers;
  body: {
    data?: any;
    errors?: Array<{ message: string; path?: (string | number)[]; extensions?: Record<string, any> }>;
    extensions?: Record<string, any>;
  };
}

/** POSTs any JSON body (a GraphQL request, an APQ registration…) and parses the JSON answer: the tests' one POST. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as GraphQLResponse['body'],
  };
}

/** POSTs a GraphQL query (with its variables) as JSON. */
export function postGraphQL(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse> {
  return postJson(url, { query, variables }, headers);
}

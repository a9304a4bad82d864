/** Coda's browser links, shared by the fixture's row references and the server's responses. */

export function docBrowserLink(docId: string): string {
  return `https://coda.io/d/_d${docId}`;
}

/** Coda shortens "grid-AbC123" to "_tuAbC123" in links. */
export function tableBrowserLink(docId: string, table: { id: string; name: string }): string {
  const slug = table.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `${docBrowserLink(docId)}/#${slug}_tu${table.id.replace(/^(grid|table)-/, '')}`;
}

export function rowBrowserLink(docId: string, table: { id: string; name: string }, rowId: string): string {
  return `${tableBrowserLink(docId, table)}/_ru${rowId}`;
}

// Moved to the search module; kept so existing imports keep working.
export * from '../search/search-model.ts';

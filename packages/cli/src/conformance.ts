/** placeholder */ export async function conformanceCommand(..._a: unknown[]): Promise<void> {}

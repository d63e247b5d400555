export async function emulatorsUp(_o: unknown): Promise<void> {}
export async function emulatorsDown(): Promise<void> {}
export async function emulatorsEnv(_o: unknown): Promise<void> {}

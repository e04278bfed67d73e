import type { DirectoryView } from '../http/server.js'
import { OpenAiError } from './errors.js'

/** A model as `/v1/models` lists it: OpenAI's fields, plus the pipelines and orchestrators serving it on the mesh. */
export interface MeshModel {
  id: string
  object: 'model'
  created: number
  owned_by: string
  pipelines: string[]
  orchestrators: number
}

/** The models the mesh serves, from the gateway's directory (what orchestrators announce), sorted by id. */
export function meshModels (directory: DirectoryView): MeshModel[] {
  const byId = new Map<string, { pipelines: Set<string>, peers: Set<string> }>()
  for (const row of directory.list()) {
    const { peerId, models } = (row ?? {}) as { peerId?: unknown, models?: unknown }
    if (!Array.isArray(models)) continue
    for (const m of models) {
      const { pipeline, modelId } = (m ?? {}) as { pipeline?: unknown, modelId?: unknown }
      if (typeof pipeline !== 'string' || typeof modelId !== 'string') continue
      const entry = byId.get(modelId) ?? { pipelines: new Set<string>(), peers: new Set<string>() }
      entry.pipelines.add(pipeline)
      if (typeof peerId === 'string') entry.peers.add(peerId)
      byId.set(modelId, entry)
    }
  }
  return [...byId].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([id, e]) => ({
    id, object: 'model', created: 0, owned_by: 'shoal', pipelines: [...e.pipelines].sort(), orchestrators: e.peers.size
  }))
}

export function listModels (directory: DirectoryView): { object: 'list', data: MeshModel[] } {
  return { object: 'list', data: meshModels(directory) }
}

export function retrieveModel (directory: DirectoryView, id: string): MeshModel {
  const model = meshModels(directory).find(m => m.id === id)
  if (model === undefined) throw new OpenAiError(404, 'GATEWAY_ERROR_NOT_FOUND', `The model '${id}' is not served on this mesh`, { param: 'model', openAiCode: 'model_not_found' })
  return model
}

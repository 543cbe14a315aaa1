// Nets already on wentianli's KnowledgeDistillation layer (typically a fork .caffemodel, whose temperature
// kdnet reads from the fork's field number): the layer runs natively; what can still be wrong is a teacher
// that learns, which the layer refuses (it sends the teacher no gradient).
import type { Message } from '../../proto/schema.js';
import { newMessage } from '../../proto/schema.js';
import { Phase } from '../../net/net-state.js';
import { NetGraph } from './graph.js';
import { freezeTeacherOf } from './teacher.js';
import { num, type Recipe } from './recipe.js';

export const knowledgeDistillation: Recipe = {
  id: 'knowledge-distillation',
  title: "KnowledgeDistillation (wentianli/knowledge_distillation_caffe), teacher and student in one net",
  looksFor: 'a KnowledgeDistillation layer',
  convert(net, ctx) {
    const g = new NetGraph(net, Phase.TRAIN);
    const losses = g.layersOfType('KnowledgeDistillation').filter((i) => !ctx.created.has(g.layers[i]!));
    for (const i of losses) {
      const loss = g.layers[i]!;
      const param: Message = (loss.knowledge_distillation_param as Message | null) ?? newMessage('KnowledgeDistillationParameter');
      const T = param.temperature as number;
      ctx.report.changes.push(`"${loss.name}": KnowledgeDistillation, temperature ${num(T)}, runs natively in kdnet: kept`);
      freezeTeacherOf(g, i, ctx.report);
    }
    return losses.length;
  },
};

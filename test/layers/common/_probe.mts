import { parseCaffeText } from '/work/main/src/proto/text.js';
import { has, caffeEnum } from '/work/main/src/proto/schema.js';
const net = parseCaffeText('layer { name: "a" type: "Concat" eltwise_param { coeff: 1 coeff: 2 } reshape_param { shape { dim: 0 dim: -1 } } }', 'NetParameter').message;
const l = net.layer[0];
console.log(l.concat_param, l.eltwise_param.operation, l.eltwise_param.coeff, has(l.eltwise_param,'operation'), l.reshape_param.shape.dim, typeof l.reshape_param.shape.dim[0], l.reshape_param.num_axes, l.slice_param, l.batch_norm_param);
console.log(caffeEnum('EltwiseParameter.EltwiseOp').values, caffeEnum('ReductionParameter.ReductionOp').values);
console.log(l.tile_param, l.loss_weight, l.param);

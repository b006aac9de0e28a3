// The logging operator's own container: its startup lines in controller-runtime's console
// format. What it does with Logging, Flow and Output objects is the controller in operator.ts;
// the fluent-bit and fluentd pods it creates behave as fluentbit.ts and fluentd.ts say.
import type { ImageBehaviour } from '../controllers/behaviours.ts';
import { byImage, idle, tagOf } from '../controllers/behaviour-kit.ts';

export const loggingOperatorMain: ImageBehaviour = {
  name: 'logging-operator',
  matches: byImage(/\/kube-logging\/logging-operator:/),
  async run(ctx) {
    const ts = (): string => new Date().toISOString();
    await ctx.log(
      `${ts()}\tINFO\tsetup\tstarting logging-operator\t{"version": "${tagOf(ctx.container.image)}"}`,
      `${ts()}\tINFO\tcontroller-runtime.metrics\tStarting metrics server`,
      `${ts()}\tINFO\tStarting EventSource\t{"controller": "logging", "controllerGroup": "logging.banzaicloud.io", "controllerKind": "Logging"}`,
      `${ts()}\tINFO\tStarting Controller\t{"controller": "logging", "controllerGroup": "logging.banzaicloud.io", "controllerKind": "Logging"}`,
      `${ts()}\tINFO\tStarting workers\t{"controller": "logging", "controllerGroup": "logging.banzaicloud.io", "controllerKind": "Logging", "worker count": 1}`,
    );
    return idle(ctx);
  },
};

// How the HPA controller turns a proposed replica count into the one it
// applies, after normalizeDesiredReplicas and
// normalizeDesiredReplicasWithBehaviors in podautoscaler/horizontal.go:
// stabilisation windows over recent recommendations, then scale limits.
import type { K8sObject } from '../types.ts';

const DOWNSCALE_STABILISATION_MS = 5 * 60_000;

interface Rules { stabilizationWindowSeconds: number; selectPolicy: string; policies: { type: string; value: number; periodSeconds: number }[] }
interface Sample { value: number; at: number }
export type Conditions = { set(type: string, status: 'True' | 'False', reason: string, message: string): void };

/** GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: unset fields take the defaults. */
function scalingRules(rules: Partial<Rules> | undefined, up: boolean): Rules {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? (up ? 0 : DOWNSCALE_STABILISATION_MS / 1000),
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies: rules?.policies ?? (up
      ? [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }]
      : [{ type: 'Percent', value: 100, periodSeconds: 15 }]),
  };
}

export interface NormalizerState {
  recommendations: [string, Sample[]][];
  scaleUpEvents: [string, Sample[]][];
  scaleDownEvents: [string, Sample[]][];
}

/** The recommendations and scale events each HPA's next decisions depend on, by HPA key. */
export class ReplicaNormalizer {
  private readonly recommendations = new Map<string, Sample[]>();
  private readonly scaleUpEvents = new Map<string, Sample[]>();
  private readonly scaleDownEvents = new Map<string, Sample[]>();

  save(): NormalizerState {
    return { recommendations: [...this.recommendations], scaleUpEvents: [...this.scaleUpEvents], scaleDownEvents: [...this.scaleDownEvents] };
  }

  restore(s: NormalizerState): void {
    for (const [k, v] of s.recommendations) this.recommendations.set(k, v);
    for (const [k, v] of s.scaleUpEvents) this.scaleUpEvents.set(k, v);
    for (const [k, v] of s.scaleDownEvents) this.scaleDownEvents.set(k, v);
  }

  forget(key: string): void {
    this.recommendations.delete(key);
    this.scaleUpEvents.delete(key);
    this.scaleDownEvents.delete(key);
  }

  /** normalizeDesiredReplicas: the legacy rules for HPAs without spec.behavior. */
  normalize(key: string, hpa: K8sObject, current: number, proposed: number, minReplicas: number, now: number, cond: Conditions): number {
    const samples = this.recommendations.get(key) ?? [];
    let stabilized = proposed;
    let oldIndex = -1;
    samples.forEach((s, i) => {
      if (s.at < now - DOWNSCALE_STABILISATION_MS) oldIndex = i;
      else if (s.value > stabilized) stabilized = s.value;
    });
    if (oldIndex >= 0) samples[oldIndex] = { value: proposed, at: now };
    else samples.push({ value: proposed, at: now });
    this.recommendations.set(key, samples);
    if (stabilized !== proposed) {
      cond.set('AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    } else {
      cond.set('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }
    const scaleUpLimit = Math.max(2 * current, 4);
    let max: number = hpa.spec.maxReplicas;
    let limitReason = 'TooManyReplicas';
    let limitMessage = 'the desired replica count is more than the maximum replica count';
    if (max > scaleUpLimit) {
      max = scaleUpLimit;
      limitReason = 'ScaleUpLimit';
      limitMessage = 'the desired replica count is increasing faster than the maximum scale rate';
    }
    let desired = stabilized;
    let r = ['DesiredWithinRange', 'the desired count is within the acceptable range'];
    if (stabilized < minReplicas) {
      desired = minReplicas;
      r = ['TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
    } else if (stabilized > max) {
      desired = max;
      r = [limitReason, limitMessage];
    }
    cond.set('ScalingLimited', desired === stabilized ? 'False' : 'True', r[0], r[1]);
    return desired;
  }

  /** normalizeDesiredReplicasWithBehaviors: stabilisation windows, then scaling policies. */
  normalizeWithBehaviors(key: string, hpa: K8sObject, current: number, proposed: number, minReplicas: number, now: number, cond: Conditions): number {
    const up = scalingRules(hpa.spec.behavior.scaleUp, true);
    const down = scalingRules(hpa.spec.behavior.scaleDown, false);
    const samples = this.recommendations.get(key) ?? [];
    const upCutoff = now - up.stabilizationWindowSeconds * 1000;
    const downCutoff = now - down.stabilizationWindowSeconds * 1000;
    let upRec = proposed;
    let downRec = proposed;
    let oldIndex = -1;
    samples.forEach((s, i) => {
      if (s.at > upCutoff) upRec = Math.min(upRec, s.value);
      if (s.at > downCutoff) downRec = Math.max(downRec, s.value);
      if (s.at < upCutoff && s.at < downCutoff) oldIndex = i;
    });
    let stabilized = Math.max(Math.min(proposed, upRec), downRec);
    if (oldIndex >= 0) samples[oldIndex] = { value: proposed, at: now };
    else samples.push({ value: proposed, at: now });
    this.recommendations.set(key, samples);
    if (stabilized !== proposed) {
      if (proposed >= current) cond.set('AbleToScale', 'True', 'ScaleUpStabilized', 'recent recommendations were lower than current one, applying the lowest recent recommendation');
      else cond.set('AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    } else {
      cond.set('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }

    let desired = stabilized;
    let r = ['DesiredWithinRange', 'the desired count is within the acceptable range'];
    const upEvents = this.scaleUpEvents.get(key) ?? [];
    const downEvents = this.scaleDownEvents.get(key) ?? [];
    if (stabilized > current) {
      const limit = Math.max(scaleLimit(up, current, upEvents, downEvents, now, true), current);
      const max = Math.min(hpa.spec.maxReplicas, limit);
      const why = hpa.spec.maxReplicas > limit
        ? ['ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
        : ['TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (stabilized > max) [desired, r] = [max, why];
    } else if (stabilized < current) {
      const limit = Math.min(scaleLimit(down, current, upEvents, downEvents, now, false), current);
      const min = Math.max(minReplicas, limit);
      const why = minReplicas < limit
        ? ['ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
        : ['TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (stabilized < min) [desired, r] = [min, why];
    }
    cond.set('ScalingLimited', desired === stabilized ? 'False' : 'True', r[0], r[1]);
    stabilized = desired;
    return stabilized;
  }

  storeScaleEvent(key: string, hpa: K8sObject, prev: number, next: number, now: number): void {
    const upward = next > prev;
    const rules = scalingRules(upward ? hpa.spec.behavior.scaleUp : hpa.spec.behavior.scaleDown, upward);
    const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds)) * 1000;
    const map = upward ? this.scaleUpEvents : this.scaleDownEvents;
    const events = (map.get(key) ?? []).filter((e) => e.at > now - longest);
    events.push({ value: Math.abs(next - prev), at: now });
    map.set(key, events);
  }
}

/** calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors. */
function scaleLimit(rules: Rules, current: number, upEvents: Sample[], downEvents: Sample[], now: number, up: boolean): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = (rules.selectPolicy === 'Min') === up;
  let result = pickMin ? Infinity : -Infinity;
  const changed = (events: Sample[], period: number) =>
    events.filter((e) => e.at > now - period * 1000).reduce((n, e) => n + e.value, 0);
  for (const p of rules.policies) {
    const periodStart = current - changed(upEvents, p.periodSeconds) + changed(downEvents, p.periodSeconds);
    let proposed: number;
    if (up) proposed = p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
    else proposed = p.type === 'Pods' ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

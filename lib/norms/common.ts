import * as tf from "@tensorflow/tfjs";
import type { Layout } from "./types";

/** Channel axis and the shape gamma/beta broadcast with, for a given input rank. */
export function channelGeometry(rank: number, dim: number, layout: Layout): { axis: number; paramShape: number[]; reduceAxes: number[] } {
  if (layout === "channels-last") {
    return { axis: rank - 1, paramShape: [dim], reduceAxes: [...Array(rank - 1).keys()] };
  }
  if (rank < 2) throw new Error(`channels-first norm needs rank >= 2 input, got rank ${rank}`);
  const paramShape = [dim, ...Array(rank - 2).fill(1)];
  return { axis: 1, paramShape, reduceAxes: [...Array(rank).keys()].filter((a) => a !== 1) };
}

export function checkChannels(x: tf.Tensor, dim: number, axis: number, name: string): void {
  if (x.shape[axis] !== dim)
    throw new Error(`${name}: expected ${dim} channels on axis ${axis}, got input shape [${x.shape.join(",")}]`);
}

/** Sum a per-element gradient down to a parameter's shape. */
export function reduceToParam(g: tf.Tensor, reduceAxes: number[], paramShape: number[]): tf.Tensor {
  return tf.sum(g, reduceAxes).reshape(paramShape);
}

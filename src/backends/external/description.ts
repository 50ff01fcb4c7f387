/** The external backend's facts for the status resource (the URL without credentials). */
export type ExternalDescription = {
  kind: 'external';
  url: string;
};
